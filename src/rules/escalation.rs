//! The escalation policy: per severity, who is mailed at each step of an incident, and how
//! long an incident may stay unacknowledged before the leaders hear of it.
//!
//! `[escalation.<severity>]` in the config (severity `especially_major`, `major`, `large`
//! or `ordinary`) names, for each step, a list of roles (`duty`, `leaders`, `principal`,
//! `operators`, `office`, from `[people]`) or explicit addresses. Steps left out keep the default,
//! which is the behaviour before the policy existed:
//!
//! | step | default |
//! | --- | --- |
//! | `opened`, `reminder`, `new_items` | duty |
//! | `breach`, `repeat_breach`, `unacknowledged` | leaders, principal, duty |
//! | `regraded`, `resurgence` | 重大 and above: leaders, principal, duty; else duty |
//! | `unacknowledged_after` | `[deadlines] unacknowledged_after` (30m) |
//!
//! A regrade is mailed to the union of the old and the new severity's `regraded` lists.
//!
//! A role in `[people]` or a step here may also name an instant-message notifier as
//! `notify:ID` (`[[notify]]`, issue 14); [`Escalation::notifiers`] gives a step's, which are
//! queued beside its mail.

use crate::vocab::diagnostic::{Diagnostics, SpanToDiagnostic};
use crate::vocab::duration::Span;
use crate::vocab::severity::Severity;
use lettre::message::Mailbox;
use serde::Deserialize;
use toml::Spanned;

/// Who is mailed. Addresses are parsed once here; a typo is a config error.
#[derive(Debug, Clone, Default)]
pub struct People {
    /// 值班员: every new incident, at once.
    pub duty: Vec<Mailbox>,
    /// 分管领导: escalation when a deadline is missed.
    pub leaders: Vec<Mailbox>,
    /// 主要负责人: escalation when a deadline is missed.
    pub principal: Vec<Mailbox>,
    /// 运维: source failures.
    pub operators: Vec<Mailbox>,
    /// 办公室: the weekly compliance report, the monthly ledger and work-report reminder
    /// (default: the duty officers).
    pub office: Vec<Mailbox>,
    /// The instant-message notifiers each role names as `notify:ID` beside its addresses.
    pub notify: RoleNotifiers,
    /// `[people.phones]`: a telephone number per address (lower case), so that mail says
    /// whom to call, not only whom to write to.
    pub phones: std::collections::BTreeMap<String, String>,
}

impl People {
    /// A person as mail names them: `舆情值班 <duty@…>（电话 010-6512 3456）`.
    pub fn contact(&self, m: &Mailbox) -> String {
        match self.phones.get(&m.email.to_string().to_lowercase()) {
            Some(phone) => format!("{m}（电话 {phone}）"),
            None => m.to_string(),
        }
    }
}

impl People {
    /// The addresses of one group of `[people]`.
    pub fn mailboxes(&self, group: Group) -> &[Mailbox] {
        match group {
            Group::Duty => &self.duty,
            Group::Leaders => &self.leaders,
            Group::Principal => &self.principal,
            Group::Operators => &self.operators,
            Group::Office => &self.office,
        }
    }
}

/// A group of people `[people]` names, as a recipient list writes it (`duty`, `leaders`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    /// 值班员.
    Duty,
    /// 分管领导.
    Leaders,
    /// 主要负责人.
    Principal,
    /// 运维.
    Operators,
    /// 办公室.
    Office,
}

impl Group {
    pub const ALL: [Group; 5] = [
        Group::Duty,
        Group::Leaders,
        Group::Principal,
        Group::Operators,
        Group::Office,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Group::Duty => "duty",
            Group::Leaders => "leaders",
            Group::Principal => "principal",
            Group::Operators => "operators",
            Group::Office => "office",
        }
    }

    fn named(text: &str) -> Option<Group> {
        Group::ALL.into_iter().find(|g| g.as_str() == text)
    }
}

/// `notify:ID` entries of each group in `[people]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleNotifiers(std::collections::BTreeMap<Group, Vec<String>>);

impl RoleNotifiers {
    pub fn new(by_group: impl IntoIterator<Item = (Group, Vec<String>)>) -> RoleNotifiers {
        RoleNotifiers(by_group.into_iter().collect())
    }

    /// The notifiers one group names.
    pub fn of(&self, group: Group) -> &[String] {
        self.0.get(&group).map_or(&[], Vec::as_slice)
    }

    /// The groups (`duty`, `leaders`, …) that name notifier `id`.
    pub fn roles_of(&self, id: &str) -> Vec<&'static str> {
        Group::ALL
            .into_iter()
            .filter(|g| self.of(*g).iter().any(|n| n == id))
            .map(Group::as_str)
            .collect()
    }
}

/// The moments of an incident that mail someone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Opened,
    Reminder,
    Breach,
    RepeatBreach,
    Unacknowledged,
    Regraded,
    Resurgence,
    NewItems,
}

impl Step {
    pub const ALL: [Step; 8] = [
        Step::Opened,
        Step::Reminder,
        Step::Breach,
        Step::RepeatBreach,
        Step::Unacknowledged,
        Step::Regraded,
        Step::Resurgence,
        Step::NewItems,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Step::Opened => "opened",
            Step::Reminder => "reminder",
            Step::Breach => "breach",
            Step::RepeatBreach => "repeat_breach",
            Step::Unacknowledged => "unacknowledged",
            Step::Regraded => "regraded",
            Step::Resurgence => "resurgence",
            Step::NewItems => "new_items",
        }
    }
}

/// Someone named in the policy.
#[derive(Debug, Clone, PartialEq)]
pub enum Recipient {
    /// A group of `[people]`.
    Group(Group),
    Address(Mailbox),
    /// An instant-message notifier, `notify:ID`.
    Notify(String),
}

impl Recipient {
    pub(crate) fn parse(text: &str) -> Result<Recipient, String> {
        let text = text.trim();
        if let Some(group) = Group::named(text) {
            return Ok(Recipient::Group(group));
        }
        match text {
            other if other.starts_with("notify:") => Ok(Recipient::Notify(
                other.trim_start_matches("notify:").trim().to_string(),
            )),
            other => other
                .parse::<Mailbox>()
                .map(Recipient::Address)
                .map_err(|e| {
                    format!(
                        "`{other}` is neither a role (duty, leaders, principal, operators, office) \
                     nor a mail address: {e}"
                    )
                }),
        }
    }

    pub fn label(&self) -> String {
        match self {
            Recipient::Group(g) => g.as_str().into(),
            Recipient::Address(m) => m.to_string(),
            Recipient::Notify(id) => format!("notify:{id}"),
        }
    }
}

/// The policy of one severity.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Recipients of each step, in [`Step::ALL`] order.
    steps: Vec<Vec<Recipient>>,
    pub unacknowledged_after: Span,
}

impl Policy {
    fn default_for(severity: Severity, unacknowledged_after: Span) -> Policy {
        use Group::*;
        let groups = |gs: &[Group]| gs.iter().map(|g| Recipient::Group(*g)).collect::<Vec<_>>();
        let escalate = groups(&[Leaders, Principal, Duty]);
        let steps = Step::ALL
            .iter()
            .map(|s| match s {
                Step::Opened | Step::Reminder | Step::NewItems => groups(&[Duty]),
                Step::Breach | Step::RepeatBreach | Step::Unacknowledged => escalate.clone(),
                Step::Regraded | Step::Resurgence if severity.is_major() => escalate.clone(),
                Step::Regraded | Step::Resurgence => groups(&[Duty]),
            })
            .collect();
        Policy {
            steps,
            unacknowledged_after,
        }
    }

    pub fn recipients(&self, step: Step) -> &[Recipient] {
        &self.steps[Policy::slot(step)]
    }

    /// Where `step`'s recipients are in `steps`: its place in [`Step::ALL`].
    fn slot(step: Step) -> usize {
        Step::ALL.iter().position(|s| *s == step).unwrap_or(0)
    }
}

/// The whole policy, one [`Policy`] per severity.
#[derive(Debug, Clone)]
pub struct Escalation {
    per: Vec<(Severity, Policy)>,
}

impl Escalation {
    /// The policy that reproduces the behaviour without an `[escalation]` section.
    pub fn defaults(unacknowledged_after: Span) -> Escalation {
        Escalation {
            per: Severity::ALL
                .iter()
                .map(|s| (*s, Policy::default_for(*s, unacknowledged_after)))
                .collect(),
        }
    }

    pub fn policy(&self, severity: Severity) -> &Policy {
        &self
            .per
            .iter()
            .find(|(s, _)| *s == severity)
            .unwrap_or(&self.per[0])
            .1
    }

    /// Who gets `step` of an incident of `severity`: roles resolved from `people`, each
    /// address once, in the order named.
    pub fn mailboxes(&self, people: &People, severity: Severity, step: Step) -> Vec<Mailbox> {
        resolve(people, self.policy(severity).recipients(step))
    }

    /// The notifiers `step` of an incident of `severity` reaches: those its roles name in
    /// `[people]` and those the step names itself, each once, in the order named.
    pub fn notifiers(&self, people: &People, severity: Severity, step: Step) -> Vec<String> {
        notifiers_of(people, self.policy(severity).recipients(step))
    }

    /// Everyone `step` of an incident of `severity` reaches: the addresses mailed and the
    /// notifiers messaged, resolved together so that no alert forgets either.
    pub fn audience(&self, people: &People, severity: Severity, step: Step) -> Audience {
        Audience::of(people, self.policy(severity).recipients(step))
    }

    /// Who hears of a regrade from `from` to `to`: both severities' `regraded` lists.
    pub fn regraded(&self, people: &People, from: Severity, to: Severity) -> Audience {
        let mut all: Vec<Recipient> = self.policy(to).recipients(Step::Regraded).to_vec();
        all.extend_from_slice(self.policy(from).recipients(Step::Regraded));
        Audience::of(people, &all)
    }

    /// One line per severity, for `yuqing check`.
    pub fn describe(&self) -> Vec<String> {
        self.per
            .iter()
            .rev()
            .map(|(sev, p)| {
                let steps: Vec<String> = Step::ALL
                    .iter()
                    .map(|s| {
                        let who: Vec<String> = p.recipients(*s).iter().map(|r| r.label()).collect();
                        format!("{}={}", s.as_str(), who.join("+"))
                    })
                    .collect();
                format!(
                    "{}: {}; unacknowledged_after={}",
                    sev.as_str(),
                    steps.join(" "),
                    p.unacknowledged_after
                )
            })
            .collect()
    }
}

/// The people one alert reaches: the addresses it is mailed to and the instant-message
/// notifiers (`[[notify]]` ids) it is also sent to, each once, in the order named.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Audience {
    pub mailboxes: Vec<Mailbox>,
    pub notifiers: Vec<String>,
}

impl Audience {
    /// The addresses and notifiers of `list`, roles resolved from `people`.
    pub fn of(people: &People, list: &[Recipient]) -> Audience {
        Audience {
            mailboxes: resolve(people, list),
            notifiers: notifiers_of(people, list),
        }
    }

    /// Adds `more`, each address and notifier once.
    pub fn add(&mut self, more: Audience) {
        for m in more.mailboxes {
            if !self.mailboxes.contains(&m) {
                self.mailboxes.push(m);
            }
        }
        for n in more.notifiers {
            if !self.notifiers.contains(&n) {
                self.notifiers.push(n);
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.mailboxes.is_empty() && self.notifiers.is_empty()
    }
}

/// The addresses of `list`: roles resolved from `people`, each address once, in the
/// order named.
pub fn resolve(people: &People, list: &[Recipient]) -> Vec<Mailbox> {
    let mut out: Vec<Mailbox> = Vec::new();
    for r in list {
        let group: &[Mailbox] = match r {
            Recipient::Group(g) => people.mailboxes(*g),
            Recipient::Address(m) => std::slice::from_ref(m),
            Recipient::Notify(_) => &[],
        };
        for m in group {
            if !out.iter().any(|a| a.email == m.email) {
                out.push(m.clone());
            }
        }
    }
    out
}

/// The notifiers of a list of recipients: roles' `notify:` entries and the list's own.
pub fn notifiers_of(people: &People, list: &[Recipient]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in list {
        let group: &[String] = match r {
            Recipient::Group(g) => people.notify.of(*g),
            Recipient::Address(_) => &[],
            Recipient::Notify(id) => std::slice::from_ref(id),
        };
        for id in group {
            if !out.contains(id) {
                out.push(id.clone());
            }
        }
    }
    out
}

/// `[escalation]` as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEscalation {
    especially_major: Option<RawPolicy>,
    major: Option<RawPolicy>,
    large: Option<RawPolicy>,
    ordinary: Option<RawPolicy>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPolicy {
    opened: Option<Spanned<Vec<Spanned<String>>>>,
    reminder: Option<Spanned<Vec<Spanned<String>>>>,
    breach: Option<Spanned<Vec<Spanned<String>>>>,
    repeat_breach: Option<Spanned<Vec<Spanned<String>>>>,
    unacknowledged: Option<Spanned<Vec<Spanned<String>>>>,
    regraded: Option<Spanned<Vec<Spanned<String>>>>,
    resurgence: Option<Spanned<Vec<Spanned<String>>>>,
    new_items: Option<Spanned<Vec<Spanned<String>>>>,
    unacknowledged_after: Option<Span>,
}

impl RawEscalation {
    /// The checked policy; `at` turns a span into a diagnostic with file and line. A step
    /// written here must reach at least one address once its roles are resolved from
    /// `people`: mail to nobody is never delivered. (The defaults all include the duty
    /// officers, whose list the config requires to be non-empty.)
    pub(crate) fn check(
        self,
        unacknowledged_after: Span,
        people: &People,
        notifiers: &[String],
        errs: &mut Diagnostics,
        at: &SpanToDiagnostic,
    ) -> Escalation {
        let mut out = Escalation::defaults(unacknowledged_after);
        let raws = [
            (Severity::EspeciallyMajor, self.especially_major),
            (Severity::Major, self.major),
            (Severity::Large, self.large),
            (Severity::Ordinary, self.ordinary),
        ];
        for (sev, raw) in raws {
            let Some(raw) = raw else { continue };
            let policy = &mut out
                .per
                .iter_mut()
                .find(|(s, _)| *s == sev)
                .expect("every severity has a policy")
                .1;
            if let Some(after) = raw.unacknowledged_after {
                policy.unacknowledged_after = after;
            }
            let lists = [
                (Step::Opened, raw.opened),
                (Step::Reminder, raw.reminder),
                (Step::Breach, raw.breach),
                (Step::RepeatBreach, raw.repeat_breach),
                (Step::Unacknowledged, raw.unacknowledged),
                (Step::Regraded, raw.regraded),
                (Step::Resurgence, raw.resurgence),
                (Step::NewItems, raw.new_items),
            ];
            for (step, list) in lists {
                let Some(list) = list else { continue };
                let who = check_recipients(
                    list,
                    &format!("[escalation.{}] {}", sev.as_str(), step.as_str()),
                    NotifyEntries::Known(notifiers),
                    people,
                    errs,
                    at,
                );
                policy.steps[Policy::slot(step)] = who;
            }
        }
        out
    }
}

/// What a recipient list may say of instant-message notifiers (`notify:ID`).
pub(crate) enum NotifyEntries<'a> {
    /// It may name one of these `[[notify]]` ids, and reaches someone through it.
    Known(&'a [String]),
    /// It may name none, for this reason: its mail goes by mail only.
    Refused(&'a str),
}

/// One recipient list as written (a step of `[escalation.<severity>]`, a job of
/// `[jobs.to]`), named `what` in messages: each entry a role, an address or, where
/// `notify` allows, a notifier. A list that reaches nobody once its roles are resolved
/// from `people` is an error at its line: mail to nobody is never delivered. The
/// recipients that are valid, in the order written; `at` turns a span into a diagnostic.
pub(crate) fn check_recipients(
    list: Spanned<Vec<Spanned<String>>>,
    what: &str,
    notify: NotifyEntries,
    people: &People,
    errs: &mut Diagnostics,
    at: &SpanToDiagnostic,
) -> Vec<Recipient> {
    let span = list.span();
    let mut who = Vec::new();
    let mut bad = false;
    for entry in list.into_inner() {
        let problem = match (Recipient::parse(entry.get_ref()), &notify) {
            (Ok(Recipient::Notify(id)), NotifyEntries::Known(known)) if !known.contains(&id) => {
                format!("no [[notify]] has the id `{id}`{}", known_list(known))
            }
            (Ok(Recipient::Notify(id)), NotifyEntries::Refused(why)) => {
                format!("`notify:{id}`: {why}")
            }
            (Ok(r), _) => {
                who.push(r);
                continue;
            }
            (Err(e), _) => e,
        };
        bad = true;
        errs.push(at(entry.span(), format!("{what}: {problem}")));
    }
    let reached = match notify {
        NotifyEntries::Known(_) => !Audience::of(people, &who).is_empty(),
        NotifyEntries::Refused(_) => !resolve(people, &who).is_empty(),
    };
    if !bad && !reached {
        let roles: Vec<String> = who.iter().map(Recipient::label).collect();
        errs.push(at(
            span,
            format!(
                "{what} reaches nobody{}: its mail would never be delivered; name a role with \
                 addresses in [people] or an address",
                if roles.is_empty() {
                    String::new()
                } else {
                    format!(" ([people] {} empty)", roles.join(", "))
                }
            ),
        ));
    }
    who
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
/// The `[people]` table as written.
pub struct RawPeople {
    pub(crate) duty: Option<Spanned<Vec<Spanned<String>>>>,
    pub(crate) leaders: Option<Spanned<Vec<Spanned<String>>>>,
    pub(crate) principal: Option<Spanned<Vec<Spanned<String>>>>,
    pub(crate) operators: Option<Spanned<Vec<Spanned<String>>>>,
    pub(crate) office: Option<Spanned<Vec<Spanned<String>>>>,
    /// `[people.phones]`: `"address" = "phone"`.
    pub(crate) phones: Option<std::collections::BTreeMap<Spanned<String>, Spanned<String>>>,
}

impl RawPeople {
    /// The list written for one group, if any.
    pub(crate) fn list_mut(&mut self, group: Group) -> &mut Option<Spanned<Vec<Spanned<String>>>> {
        match group {
            Group::Duty => &mut self.duty,
            Group::Leaders => &mut self.leaders,
            Group::Principal => &mut self.principal,
            Group::Operators => &mut self.operators,
            Group::Office => &mut self.office,
        }
    }

    /// The checked addresses (with `notify`, the `notify:ID`s config took out of the
    /// lists), and where `office` was written (an empty office is an error only when
    /// something mails it, which the whole config tells); `at` turns a span into a
    /// diagnostic with file and line.
    pub fn check(
        self,
        notify: RoleNotifiers,
        errs: &mut Diagnostics,
        at: &SpanToDiagnostic,
    ) -> (People, Option<std::ops::Range<usize>>) {
        // [people]
        // A list that is written must hold an address: mail to nobody is never delivered. The
        // duty officers get every new incident and the operators every source failure, so
        // those two may never be empty; the office only when a job mails it, and leaders and
        // principal only when an escalation step would then reach nobody (checked below).
        let mut people_list = |key: &str,
                               list: Option<Spanned<Vec<Spanned<String>>>>,
                               default: &str,
                               required: &str|
         -> Vec<Mailbox> {
            match list {
                None => vec![mailbox(default).expect("default address parses")],
                Some(list) => {
                    let span = list.span();
                    let list = list.into_inner();
                    if list.is_empty() && !required.is_empty() {
                        errs.push(at(
                            span,
                            format!(
                                "[people] {key} is empty: {required} would be mailed to nobody; \
                                 give at least one address, or leave the key out for the default"
                            ),
                        ));
                    }
                    list.into_iter()
                        .filter_map(|a| match mailbox(a.get_ref()) {
                            Ok(m) => Some(m),
                            Err(e) => {
                                errs.push(at(a.span(), e));
                                None
                            }
                        })
                        .collect()
                }
            }
        };
        let people = People {
            duty: people_list(
                "duty",
                self.duty,
                "值班员 <duty@localhost>",
                "every new incident",
            ),
            leaders: people_list("leaders", self.leaders, "分管领导 <leaders@localhost>", ""),
            principal: people_list(
                "principal",
                self.principal,
                "主要负责人 <principal@localhost>",
                "",
            ),
            operators: people_list(
                "operators",
                self.operators,
                "运维 <operators@localhost>",
                "every source failure",
            ),
            office: Vec::new(),
            notify,
            phones: Default::default(),
        };
        let office_span = self.office.as_ref().map(|o| o.span());
        let office = self.office.map(|o| people_list("office", Some(o), "", ""));
        let mut people = People {
            office: office.unwrap_or_else(|| people.duty.clone()),
            ..people
        };
        // [people.phones]: keyed by an address some role lists, so a typo in either is seen.
        for (address, phone) in self.phones.unwrap_or_default() {
            let key = address.get_ref().trim().to_lowercase();
            let known = Group::ALL
                .iter()
                .flat_map(|g| people.mailboxes(*g))
                .any(|m| m.email.to_string().to_lowercase() == key);
            if !known {
                errs.push(at(
                    address.span(),
                    format!(
                        "[people.phones] `{}` is not an address of duty, leaders, principal, \
                         operators or office; write the address exactly as a role lists it",
                        address.get_ref()
                    ),
                ));
                continue;
            }
            let number = phone.get_ref().trim();
            let digits = number.chars().filter(char::is_ascii_digit).count();
            if digits < 3
                || !number
                    .chars()
                    .all(|c| c.is_ascii_digit() || " -+()转".contains(c))
            {
                errs.push(at(
                    phone.span(),
                    format!(
                        "[people.phones] `{number}` is not a telephone number: write digits, \
                         with spaces, `-`, `+`, `()` or 转 for an extension"
                    ),
                ));
                continue;
            }
            people.phones.insert(key, number.to_string());
        }
        (people, office_span)
    }
}

/// A mail address as the config writes it: `user@example.gov.cn` or `名字 <user@…>`.
pub fn mailbox(text: &str) -> Result<Mailbox, String> {
    text.trim()
        .parse::<Mailbox>()
        .map_err(|_| format!("invalid mail address `{text}`: write `user@example.gov.cn` or `名字 <user@example.gov.cn>`"))
}

/// `(known: a, b)` for a message about an unknown notifier id.
pub fn known_list(notifiers: &[String]) -> String {
    if notifiers.is_empty() {
        " (none is defined)".to_string()
    } else {
        format!(" (known: {})", notifiers.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn people() -> People {
        let m = |s: &str| s.parse::<Mailbox>().unwrap();
        People {
            duty: vec![m("duty@x.cn")],
            leaders: vec![m("lead@x.cn")],
            principal: vec![m("head@x.cn")],
            operators: vec![m("ops@x.cn")],
            office: vec![m("office@x.cn")],
            notify: RoleNotifiers::default(),
            phones: Default::default(),
        }
    }

    fn emails(v: Vec<Mailbox>) -> Vec<String> {
        v.into_iter().map(|m| m.email.to_string()).collect()
    }

    #[test]
    fn defaults_are_the_behaviour_before_the_policy() {
        let e = Escalation::defaults(Span::from_secs(1800));
        let p = people();
        for sev in Severity::ALL {
            assert_eq!(
                emails(e.mailboxes(&p, sev, Step::Opened)),
                ["duty@x.cn"],
                "{sev}"
            );
            assert_eq!(
                emails(e.mailboxes(&p, sev, Step::Breach)),
                ["lead@x.cn", "head@x.cn", "duty@x.cn"]
            );
        }
        assert_eq!(
            emails(
                e.regraded(&p, Severity::Major, Severity::Ordinary)
                    .mailboxes
            ),
            ["duty@x.cn", "lead@x.cn", "head@x.cn"]
        );
        assert_eq!(
            emails(
                e.regraded(&p, Severity::Ordinary, Severity::Large)
                    .mailboxes
            ),
            ["duty@x.cn"]
        );
        assert_eq!(
            emails(e.mailboxes(&p, Severity::Major, Step::Resurgence)),
            ["lead@x.cn", "head@x.cn", "duty@x.cn"]
        );
    }
}

#[cfg(test)]
mod config_tests {
    use super::*;
    use std::path::Path;

    fn parse(text: &str) -> Result<crate::config::Config, Vec<String>> {
        crate::config::parse(Path::new("yuqing.toml"), text)
            .map_err(|d| d.0.iter().map(|d| d.to_string()).collect())
    }

    #[test]
    fn the_policy_is_read_per_severity_and_mistakes_name_their_line() {
        let c = parse(
            "[people]\nduty = [\"duty@x.cn\"]\nleaders = [\"lead@x.cn\"]\n\n\
             [escalation.ordinary]\nbreach = [\"duty\", \"新闻办 <press@x.cn>\"]\n\
             unacknowledged_after = \"2h\"\n",
        )
        .unwrap();
        let e = &c.escalation;
        assert_eq!(
            e.mailboxes(&c.people, Severity::Ordinary, Step::Breach)
                .iter()
                .map(|m| m.email.to_string())
                .collect::<Vec<_>>(),
            ["duty@x.cn", "press@x.cn"]
        );
        assert_eq!(
            e.policy(Severity::Ordinary).unacknowledged_after,
            Span::from_secs(7200)
        );
        // Other severities keep the defaults.
        assert_eq!(
            e.policy(Severity::Major).unacknowledged_after,
            Span::from_secs(1800)
        );

        let errs =
            parse("[escalation.major]\nopened = [\"duty\"]\nbreach = [\"leaderz\"]\n").unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].starts_with("yuqing.toml:3:")
                && errs[0].contains("`leaderz` is neither a role"),
            "{errs:?}"
        );
        // Notifiers: a role's `notify:` entries and a step's own, each once, in order.
        let c = parse(
            "[people]\nduty = [\"duty@x.cn\", \"notify:w\"]\n\n[escalation.major]\n\
             breach = [\"notify:sms\", \"duty\", \"notify:w\"]\n\n\
             [[notify]]\nid = \"w\"\nkind = \"wecom\"\nurl = \"https://x/\"\n\n\
             [[notify]]\nid = \"sms\"\nkind = \"webhook\"\nurl = \"https://y/\"\n",
        )
        .unwrap();
        let e = &c.escalation;
        assert_eq!(
            e.notifiers(&c.people, Severity::Major, Step::Breach),
            ["sms", "w"]
        );
        assert_eq!(e.notifiers(&c.people, Severity::Major, Step::Opened), ["w"]);
        assert_eq!(
            e.mailboxes(&c.people, Severity::Major, Step::Breach)
                .iter()
                .map(|m| m.email.to_string())
                .collect::<Vec<_>>(),
            ["duty@x.cn"]
        );
        let errs = parse("[escalation.major]\nbreach = [\"notify:nope\"]\n").unwrap_err();
        assert!(
            errs[0].starts_with("yuqing.toml:2:")
                && errs[0].contains("no [[notify]] has the id `nope`"),
            "{errs:?}"
        );
        let errs = parse("[escalation.huge]\nopened = [\"duty\"]\n").unwrap_err();
        assert!(
            errs[0].contains("yuqing.toml:1") && errs[0].contains("huge"),
            "{errs:?}"
        );
        let errs = parse("[grouping]\nsimilarity = 1.5\n").unwrap_err();
        assert!(
            errs[0].starts_with("yuqing.toml:2:") && errs[0].contains("between 0 and 1"),
            "{errs:?}"
        );
    }
}
