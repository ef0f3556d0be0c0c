use super::*;
use ToneLabel::{Negative, Positive};

fn scorer() -> Arc<ToneScorer> {
    ToneScorer::new(&ToneLexicon::default())
}

/// Asserts that `s` reads `text` as `label` (showing the explanation when it does not),
/// and returns the explanation.
#[track_caller]
fn reads_as(s: &ToneScorer, text: &str, label: ToneLabel) -> ToneExplanation {
    let e = s.explain(text);
    assert_eq!(e.tone.label, label, "{e}");
    e
}

/// Asserts that `s` does not read `text` as `label`, showing the explanation when it does.
#[track_caller]
fn reads_not_as(s: &ToneScorer, text: &str, label: ToneLabel) {
    let e = s.explain(text);
    assert_ne!(e.tone.label, label, "{e}");
}

#[test]
fn a_label_reads_back_by_its_name_and_an_unknown_one_lists_the_names() {
    for l in ToneLabel::ALL {
        assert_eq!(l.as_str().parse::<ToneLabel>(), Ok(l));
        assert_eq!(l.to_string(), l.as_str());
    }
    assert_eq!(
        "angry".parse::<ToneLabel>(),
        Err("unknown tone `angry` (expected negative, neutral or positive)".to_string())
    );
}

#[test]
fn complaints_are_negative_and_news_is_not() {
    let s = scorer();
    assert_eq!(
        s.tone("游客吐槽古镇餐馆宰客，一盘青菜要价188元").label,
        Negative
    );
    assert_ne!(s.tone("市博物馆发布春节期间开放时间安排").label, Negative);
    assert_eq!(
        s.tone("景区工作人员帮忙找回钱包，游客送来锦旗点赞").label,
        Positive
    );
    // The demo's own sample (issue 28: once 负面 -1.00): a precaution is not an accident,
    // while the accident itself still reads negative.
    let precaution = "市文旅局部署“五一”假期景区安全工作 严防踩踏事故";
    reads_not_as(&s, precaution, Negative);
    assert_eq!(
        s.tone("示例山景区发生踩踏事件 多名游客受伤").label,
        Negative
    );
}

#[test]
fn notices_do_not_read_positive() {
    // Issue 25: 召开周例会 read positive (the model's "not negative" counted as praise,
    // and one formal NTUSD word made a notice 正面).
    let s = scorer();
    for text in [
        "召开周例会",
        "今天多云",
        "会议通知",
        "市图书馆12月起周一闭馆改为周二闭馆",
    ] {
        reads_not_as(&s, text, Positive);
    }
    let praise = "景区工作人员帮忙找回钱包，游客送来锦旗点赞，服务真贴心";
    reads_as(&s, praise, Positive);
}

#[test]
fn the_model_alone_makes_nothing_positive() {
    // "Not negative" is no praise: without praise words the model can cancel
    // complaint words (a drill) but not make a text positive.
    let s = scorer();
    let e = s.explain("市博物馆春节期间除夕闭馆，正月初一至初七正常开放，观众需提前预约。");
    assert!(e.model.logit < 0.0, "{e}");
    assert_ne!(e.tone.label, Positive, "{e}");
    assert!(
        e.sum <= e.words.iter().map(|w| w.value).sum::<f64>().max(0.0) + 0.05,
        "{e}"
    );
}

#[test]
fn negation_flips_and_weakens() {
    let s = scorer();
    let plain = s.explain("发生安全事故");
    // The lexicon's half alone: the model has its own say.
    let lex = |e: &ToneExplanation| e.sum - e.model.value;
    let negated = s.explain("没有发生安全事故");
    assert!(lex(&plain) < 0.0, "{plain}");
    assert!(lex(&negated) > 0.0, "{negated}");
    assert!(lex(&negated).abs() < lex(&plain).abs(), "{negated}");
    let unhappy = s.explain("游客很不满意");
    assert!(lex(&unhappy) < 0.0, "{unhappy}");
}

#[test]
fn degree_scales() {
    let mut lex = ToneLexicon::ntusd_only();
    lex.add_file(Path::new("grammar.toml"), GRAMMAR).unwrap();
    lex.add_file(Path::new("t.toml"), "[terms]\n\"差劲\" = -2\n")
        .unwrap();
    let s = ToneScorer::new(&lex);
    let a = s.explain("服务差劲").sum;
    let b = s.explain("服务非常差劲").sum;
    let c = s.explain("服务稍微差劲").sum;
    assert!(b < a && a < c, "{a} {b} {c}");
}

#[test]
fn after_but_weighs_more() {
    let s = scorer();
    reads_as(&s, "风景很美，但是管理混乱，服务态度恶劣", Negative);
    reads_as(&s, "虽然排队有点久，但是秩序井然，服务贴心", Positive);
}

#[test]
fn rhetorical_complaints_read_negative() {
    let s = scorer();
    let e = reads_as(&s, "凭什么外地游客门票要贵一倍？", Negative);
    assert!(e.words.iter().any(|w| w.quote == "凭什么"), "{e}");
    reads_as(&s, "投诉了三次，还有没有人管？", Negative);
}

#[test]
fn remedy_is_not_a_complaint() {
    let s = scorer();
    reads_not_as(&s, "我市严厉打击强制购物，旅游市场秩序明显好转", Negative);
}

#[test]
fn traditional_fullwidth_and_pinyin_score_as_simplified() {
    let s = scorer();
    let simplified = s.tone("游客投诉景区宰客，一碗面收费八十元，商家态度恶劣");
    let traditional = s.tone("遊客投訴景區宰客，一碗麵收費八十元，商家態度惡劣");
    let full_width = s.tone("游客投诉景区宰客，一碗面收费８０元，商家态度恶劣");
    let pinyin = s.tone("游客投诉景区宰(zǎi)客，一碗面收费八十元，商家态度恶劣");
    assert_eq!(simplified.label, Negative);
    assert_eq!(simplified, traditional);
    assert_eq!(simplified, full_width);
    assert_eq!(simplified, pinyin);
}

#[test]
fn explanation_points_at_the_original_words() {
    let s = scorer();
    let text = "遊客吐槽：景區宰客";
    let e = s.explain(text);
    let w = e
        .words
        .iter()
        .find(|w| w.word == "宰客")
        .expect("宰客 counted");
    assert_eq!(w.quote, "宰客");
    let chars: Vec<char> = text.chars().collect();
    assert_eq!(chars[w.start..w.end].iter().collect::<String>(), "宰客");
    assert_eq!(w.origin, "culture-tourism.toml");
    let text = e.to_string();
    assert!(text.contains("语气：负面"), "{text}");
}

#[test]
fn ntusd_is_decoded_and_folded() {
    let words = ntusd();
    assert!(words.len() > 18_000, "{}", words.len());
    // 失望 is in NTUSD's negative list (Traditional 失望), 不滿 folds to 不满.
    assert!(words.iter().any(|(w, v)| w == "不满" && *v < 0.0));
    assert!(words.iter().all(|(w, _)| w.chars().count() >= 2));
}

#[test]
fn tone_files_are_checked_with_lines() {
    let mut lex = ToneLexicon::ntusd_only();
    let src = "[terms]\n\"宰客\" = -3\n\"坑\" = -9\n\"  \" = -1\n";
    let err = lex.add_file(Path::new("t.toml"), src).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("t.toml:3"), "{text}");
    assert!(text.contains("between -5 and 5"), "{text}");
    assert!(text.contains("t.toml:4"), "{text}");
    let err = lex
        .add_file(Path::new("u.toml"), "[grammer]\nnegation = []\n")
        .unwrap_err();
    assert!(err.to_string().contains("u.toml:1"), "{err}");
    let err = lex
        .add_file(Path::new("v.toml"), "[degree]\n\"很\" = 0\n")
        .unwrap_err();
    assert!(err.to_string().contains("more than 0"), "{err}");
}

#[test]
fn operator_words_override_ntusd() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("local.toml"),
        "[terms]\n\"不满\" = 0\n\"门票贵\" = -2\n",
    )
    .unwrap();
    let lex = ToneLexicon::load_dir(dir.path()).unwrap();
    let s = ToneScorer::new(&lex);
    // The lexicon's half (the model is not the operator's to silence).
    assert_eq!(s.components("群众不满").0, 0.0);
    assert!(s.components("门票贵").0 < 0.0);
}

#[test]
fn a_tone_file_saved_as_gbk_is_named_with_its_encoding_and_line() {
    // Windows editors save Chinese as GBK: the operator is told which file, which line
    // and how to convert it, as for a watchlist, not "stream did not contain valid UTF-8".
    let dir = tempfile::tempdir().unwrap();
    let (gbk, _, _) = encoding_rs::GBK.encode("[terms]\n\"门票贵\" = -2\n");
    std::fs::write(dir.path().join("local.toml"), &gbk).unwrap();
    let err = ToneLexicon::load_dir(dir.path()).map(|_| ()).unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("local.toml:2:"), "{shown}");
    assert!(
        shown.contains("not UTF-8") && shown.contains("iconv -f GBK"),
        "{shown}"
    );
}

#[test]
fn reading_inside_the_fold_reads_what_reading_the_folded_text_reads() {
    // The classifier's path: the fold hands each char to the reader as it makes it (a
    // Traditional char that converts by its neighbours one char late), into buffers
    // left over from another text. The general path: fold, then read the folded text.
    let s = scorer();
    let (mut codes, mut reading) = (Vec::new(), Reading::default());
    for text in crate::classify::tests::tone_texts() {
        let folded = normalize_text(&text);
        let (mut want_codes, mut want) = (Vec::new(), Reading::default());
        s.read(&folded, s.dictionary(), &mut want_codes, &mut want);

        codes.clear();
        let mut reader = s.reader(s.dictionary(), &mut codes, &mut reading, text.len());
        let got = crate::classify::normalize::normalize_text_reading(
            &text,
            String::from("left over"),
            &mut reader,
        );
        reader.finish();
        assert_eq!(got, folded, "{text:?}");
        assert_eq!(codes, want_codes, "{text:?}");
        assert_eq!(reading.say.logit, want.say.logit, "{text:?}");
        assert_eq!(reading.say.chars, want.say.chars, "{text:?}");
        assert_eq!(reading.breaks, want.breaks, "{text:?}");
        assert_eq!(reading.quotes, want.quotes, "{text:?}");
        assert_eq!(reading.questions, want.questions, "{text:?}");
        assert_eq!(reading.ironic, want.ironic, "{text:?}");
    }
}
