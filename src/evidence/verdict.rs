//! What a page's answer says of the post behind an item: there, gone, or not reachable;
//! and whether its text differs from the version kept. Pure functions of the answer.
//!
//! A deleted post is rarely a clean 404: Chinese platforms answer 200 with a notice page
//! (微博 "抱歉，此微博已被作者删除", 微信 "该内容已被发布者删除", forums
//! "该帖子已被删除"). Such a notice is short; a long article that merely quotes one of these
//! phrases is not taken for one.

use crate::vocab::state::EvidenceState;

/// The phrases of notice pages that stand for a deleted post.
pub const NOTICES: &[&str] = &[
    "该内容已被删除",
    "内容不存在",
    "此内容因违规无法查看",
    "该内容已被发布者删除",
    "此内容已被删除",
    "该帖子已被删除",
    "帖子已被删除",
    "该帖已被删除",
    "此帖已被删除",
    "已被作者删除",
    "该微博已被删除",
    "该文章已被删除",
    "文章不存在",
    "页面不存在",
    "该页面不存在",
    "内容已删除",
    "该信息已被删除",
    "该内容因违规无法查看",
    "已被屏蔽",
];

/// Text longer than this (characters) is an article, not a notice page.
const NOTICE_CHARS: usize = 400;

/// The state a fetch's outcome gives: `status` of the last hop (`None` when nothing
/// answered), and the page's extracted title and text.
pub fn judge(status: Option<u16>, title: &str, text: &str) -> EvidenceState {
    match status {
        None => EvidenceState::Unreachable,
        Some(404 | 410) => EvidenceState::Deleted,
        Some(s) if (200..300).contains(&s) => {
            if is_notice(title, text) {
                EvidenceState::Deleted
            } else {
                EvidenceState::Online
            }
        }
        Some(_) => EvidenceState::Unreachable,
    }
}

/// Whether a page is a platform's notice that the post is gone.
pub fn is_notice(title: &str, text: &str) -> bool {
    let short = text.chars().count() <= NOTICE_CHARS;
    NOTICES
        .iter()
        .any(|n| title.contains(n) || (short && text.contains(n)))
}

/// Whether `now` is another text than `kept`: compared with white space removed, so that
/// a page re-rendered with other line breaks or indentation is not taken for an edit.
pub fn differs(kept: &str, now: &str) -> bool {
    let squeeze = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    squeeze(kept) != squeeze(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_judged() {
        let article = "某景区栈道坍塌，多名游客受伤。".repeat(40);
        assert_eq!(judge(Some(200), "标题", &article), EvidenceState::Online);
        assert_eq!(judge(Some(404), "", ""), EvidenceState::Deleted);
        assert_eq!(judge(Some(410), "", ""), EvidenceState::Deleted);
        assert_eq!(judge(Some(503), "", ""), EvidenceState::Unreachable);
        assert_eq!(judge(None, "", ""), EvidenceState::Unreachable);
        assert_eq!(
            judge(Some(200), "提示", "抱歉，该内容已被删除。返回首页"),
            EvidenceState::Deleted
        );
        assert_eq!(
            judge(Some(200), "微信公众平台", "此内容因违规无法查看"),
            EvidenceState::Deleted
        );
        // An article that quotes a notice is an article.
        let quoting = format!("{article}网友截图显示“该内容已被删除”。");
        assert_eq!(judge(Some(200), "标题", &quoting), EvidenceState::Online);
    }

    #[test]
    fn white_space_is_no_edit() {
        assert!(!differs("多名游客\n受伤。", "多名游客 受伤。"));
        assert!(differs("多名游客受伤。", "一名游客受伤。"));
    }
}
