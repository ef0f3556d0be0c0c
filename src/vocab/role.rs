//! Who a console user is: the role decides what they may do. Stored by name in `users`;
//! the store decodes it at its edge, so a role it does not know is an error, never a
//! default that could grant or withhold rights.

use serde::Serialize;

/// What a person may do in the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 值班员: every incident action.
    Duty,
    /// 领导: sees everything, adds notes, changes no state.
    Leader,
    /// 运维: sources, channels, obligations, the watchlist test; reads incidents.
    Operator,
}

/// What an operator reads beside a stored role that is none of these (a row written by
/// hand, or by a newer version): how to repair it.
pub const REPAIR: &str =
    "reading a console user (repair an unknown role with `yuqing user role NAME duty|leader|operator`)";

impl Role {
    pub const ALL: [Role; 3] = [Role::Duty, Role::Leader, Role::Operator];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Duty => "duty",
            Role::Leader => "leader",
            Role::Operator => "operator",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Role::Duty => "值班员",
            Role::Leader => "领导",
            Role::Operator => "运维",
        }
    }
}

crate::vocab::state::stored_by_name!(Role, |s, names| format!("unknown role `{s}`: {names}"));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_reads_back_by_its_name_and_an_unknown_one_is_an_error() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert_eq!(
            "admin".parse::<Role>(),
            Err("unknown role `admin`: duty, leader or operator".to_string())
        );
        assert!("Duty".parse::<Role>().is_err(), "names are exact");
    }
}
