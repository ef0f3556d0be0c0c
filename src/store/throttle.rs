//! Login attempts, counted before the password is checked (issue 26): 200 guesses sent at
//! once all read "no failures yet" when the count was read before the check and written
//! after it. Here an attempt is granted by one compare-and-set on its key's row, so of
//! concurrent attempts only as many are granted as the rule allows, on every daemon of the
//! database and across restarts. The rule itself (how long to wait after the n-th attempt)
//! is the console's: it is passed in.

use super::query;
use super::Store;
use anyhow::Result;

/// What the count says about one more attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Check it: it is the `n`-th attempt counted on this key.
    Granted(i64),
    /// Do not check it before `until` (UTC seconds).
    Wait { until: i64 },
}

/// A key's row: how many attempts it counted, when the next may be checked, and when
/// the last was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
struct Count {
    attempts: i64,
    allowed_at: i64,
    last_at: i64,
}

impl Store {
    /// Counts one attempt on `key` at `now` unless the key must wait. A count whose last
    /// attempt is `forget_after` seconds old starts again at one; after the `n`-th attempt
    /// the next waits `delay(n)` seconds. Atomic: concurrent callers, in this process or
    /// another, are granted one at a time.
    pub async fn claim_login_attempt(
        &self,
        key: &str,
        now: i64,
        forget_after: i64,
        delay: &(dyn Fn(i64) -> i64 + Sync),
    ) -> Result<Claim> {
        loop {
            // A key seen for the first time counts from nothing, as of now (so the hourly
            // removal of old counts does not take it away between here and the update).
            query::execute(
                self.pool(),
                "INSERT INTO login_throttle (key, attempts, allowed_at, last_at) \
                 VALUES ($1, 0, 0, $2) ON CONFLICT (key) DO NOTHING",
                (key, now),
            )
            .await?;
            let Some(old) = self.login_count(key).await? else {
                continue; // removed in between: insert again
            };
            if old.allowed_at > now {
                return Ok(Claim::Wait {
                    until: old.allowed_at,
                });
            }
            let n = if now - old.last_at >= forget_after {
                1
            } else {
                old.attempts + 1
            };
            let new = Count {
                attempts: n,
                allowed_at: now.saturating_add(delay(n).max(0)),
                last_at: now,
            };
            if self.swap_login_count(key, old, new).await? {
                return Ok(Claim::Granted(n));
            }
        }
    }

    /// Takes back one attempt on `key` (a correct password: logging in must not use up the
    /// address's attempts, or one office behind one address would soon wait). The wait
    /// becomes the one after the attempt before, counted from the last attempt, and never
    /// longer than it was.
    pub async fn refund_login_attempt(
        &self,
        key: &str,
        delay: &(dyn Fn(i64) -> i64 + Sync),
    ) -> Result<()> {
        loop {
            let Some(old) = self.login_count(key).await? else {
                return Ok(());
            };
            if old.attempts == 0 {
                return Ok(());
            }
            let n = old.attempts - 1;
            let wait = if n == 0 { 0 } else { delay(n).max(0) };
            let new = Count {
                attempts: n,
                allowed_at: old.allowed_at.min(old.last_at.saturating_add(wait)),
                last_at: old.last_at,
            };
            if self.swap_login_count(key, old, new).await? {
                return Ok(());
            }
        }
    }

    async fn login_count(&self, key: &str) -> Result<Option<Count>> {
        Ok(query::optional(
            self.pool(),
            "SELECT attempts, allowed_at, last_at FROM login_throttle WHERE key = $1",
            (key,),
        )
        .await?)
    }

    /// Replaces the count of `key` by `new` if it still is `old`: false when another
    /// attempt was counted between the read and this write (read again then).
    async fn swap_login_count(&self, key: &str, old: Count, new: Count) -> Result<bool> {
        let done = query::execute(
            self.pool(),
            "UPDATE login_throttle SET attempts = $2, allowed_at = $3, last_at = $4 \
             WHERE key = $1 AND attempts = $5 AND allowed_at = $6 AND last_at = $7",
            (
                key,
                new.attempts,
                new.allowed_at,
                new.last_at,
                old.attempts,
                old.allowed_at,
                old.last_at,
            ),
        )
        .await?;
        Ok(done == 1)
    }

    /// Forgets the count of `key` (a correct password for the account).
    pub async fn clear_login_attempts(&self, key: &str) -> Result<()> {
        query::execute(
            self.pool(),
            "UPDATE login_throttle SET attempts = 0, allowed_at = 0 WHERE key = $1",
            (key,),
        )
        .await?;
        Ok(())
    }

    /// Removes counts whose last attempt is before `before`; returns how many. Guessing
    /// many names or from many addresses cannot grow the table for good.
    pub async fn delete_stale_login_attempts(&self, before: i64) -> Result<u64> {
        Ok(query::execute(
            self.pool(),
            "DELETE FROM login_throttle WHERE last_at < $1 AND allowed_at < $1",
            (before,),
        )
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let store = Store::open(&url).await.unwrap();
        (dir, store)
    }

    /// Three free attempts, then a second's wait after the third.
    fn delay(n: i64) -> i64 {
        if n >= 3 {
            1
        } else {
            0
        }
    }

    /// One attempt of `key` at `now`, counts forgotten after 900s.
    async fn claim(store: &Store, key: &str, now: i64) -> Claim {
        store
            .claim_login_attempt(key, now, 900, &delay)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn concurrent_attempts_are_granted_only_as_the_rule_allows() {
        let (_dir, store) = store().await;
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..50 {
            let s = store.clone();
            tasks.spawn(async move { claim(&s, "user:a", 100).await });
        }
        let mut granted = Vec::new();
        while let Some(c) = tasks.join_next().await {
            if let Claim::Granted(n) = c.unwrap() {
                granted.push(n);
            }
        }
        granted.sort();
        assert_eq!(granted, vec![1, 2, 3]);
        assert_eq!(
            claim(&store, "user:a", 100).await,
            Claim::Wait { until: 101 }
        );
        assert_eq!(claim(&store, "user:a", 101).await, Claim::Granted(4));
        // Another key counts apart; a cleared key starts again; an old count is forgotten.
        assert_eq!(claim(&store, "addr:x", 101).await, Claim::Granted(1));
        store.clear_login_attempts("user:a").await.unwrap();
        assert_eq!(claim(&store, "user:a", 101).await, Claim::Granted(1));
        assert_eq!(claim(&store, "addr:x", 2000).await, Claim::Granted(1));
        assert_eq!(store.delete_stale_login_attempts(2000).await.unwrap(), 1);
        // A refunded attempt gives back its place and its wait.
        for _ in 0..2 {
            claim(&store, "addr:y", 3000).await;
        }
        assert_eq!(claim(&store, "addr:y", 3000).await, Claim::Granted(3));
        store.refund_login_attempt("addr:y", &delay).await.unwrap();
        assert_eq!(claim(&store, "addr:y", 3000).await, Claim::Granted(3));
    }
}
