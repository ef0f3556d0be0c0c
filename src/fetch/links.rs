//! One story, one link: tracking parameters (`utm_*`, `at_medium`, `at_campaign`, `spm`, …)
//! and a search engine's click redirect (Bing News wraps each story in
//! `bing.com/news/apiclick.aspx?…&url=…`) make the same article look like several links, and
//! so several items. They are taken out of each entry's link, and of a GUID that is a link,
//! before the store compares them.

use url::Url;

/// Whether a query parameter only tracks who clicked: Google Analytics' `utm_*`, AT
/// Internet's `at_*`, Alibaba's and Weibo's `spm`, Facebook's `fbclid`, Google Ads' `gclid`.
fn tracking(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.starts_with("utm_")
        || n.starts_with("at_")
        || matches!(n.as_str(), "spm" | "fbclid" | "gclid" | "mc_cid" | "mc_eid")
}

/// The story's own URL when `url` is a search engine's click redirect to it: Bing News'
/// `apiclick.aspx`, which carries it in its `url` parameter. Only an http(s) target counts.
fn redirect_target(url: &Url) -> Option<Url> {
    let host = url.host_str()?.to_ascii_lowercase();
    let bing = host == "bing.com" || host.ends_with(".bing.com");
    if !bing || !url.path().eq_ignore_ascii_case("/news/apiclick.aspx") {
        return None;
    }
    let (_, target) = url.query_pairs().find(|(k, _)| k == "url")?;
    let target = Url::parse(&target).ok()?;
    matches!(target.scheme(), "http" | "https").then_some(target)
}

/// `link` without its tracking parameters (the rest, and their order, kept), and a search
/// engine's click redirect replaced by the URL it leads to; a text that is not an http(s)
/// URL, or has neither, is returned as it was.
pub fn without_tracking(link: &str) -> String {
    let Ok(mut url) = Url::parse(link) else {
        return link.to_string();
    };
    if let Some(target) = redirect_target(&url) {
        return without_tracking(target.as_str());
    }
    if !matches!(url.scheme(), "http" | "https") || url.query().is_none() {
        return link.to_string();
    }
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !tracking(k))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.len() == url.query_pairs().count() {
        return link.to_string();
    }
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    url.to_string()
}

/// The entry with tracking parameters taken out of its link and of a GUID that is a link.
pub fn canonical(mut entry: crate::fetch::feed::Entry) -> crate::fetch::feed::Entry {
    entry.link = entry.link.map(|l| without_tracking(&l));
    entry.guid = entry.guid.map(|g| without_tracking(&g));
    entry
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_parameters_go_and_the_rest_stays() {
        for (link, want) in [
            (
                "https://news.example.cn/a/1.html?utm_source=weibo&utm_medium=share",
                "https://news.example.cn/a/1.html",
            ),
            (
                "https://news.example.cn/a?id=7&at_medium=rss&at_campaign=feed&page=2",
                "https://news.example.cn/a?id=7&page=2",
            ),
            (
                "https://m.example.cn/p?spm=a2h0k.1&fbclid=x",
                "https://m.example.cn/p",
            ),
            (
                "https://news.example.cn/a?id=7",
                "https://news.example.cn/a?id=7",
            ),
            // Bing News' click redirect: the story's own URL, its tracking taken out too.
            (
                "http://www.bing.com/news/apiclick.aspx?ref=FexRss&aid=&tid=n7&url=https%3a%2f%2fnews.example.cn%2fn7.html%3futm_source%3dbing&c=1",
                "https://news.example.cn/n7.html",
            ),
            (
                "https://cn.bing.com/news/apiclick.aspx?url=javascript%3aalert(1)",
                "https://cn.bing.com/news/apiclick.aspx?url=javascript%3aalert(1)",
            ),
            ("not a link", "not a link"),
            ("tag:example.cn,2026:1", "tag:example.cn,2026:1"),
        ] {
            assert_eq!(without_tracking(link), want, "{link}");
        }
    }
}
