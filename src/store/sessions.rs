//! Console sessions: an id (chosen by tower-sessions), its data as JSON and when it
//! expires. Kept in the database so that any daemon on it serves any logged-in user.

use super::query;
use super::Store;
use anyhow::Result;

impl Store {
    /// Inserts or replaces a session.
    pub async fn save_session(&self, id: &str, data: &str, expires_at: i64) -> Result<()> {
        // Not through `begin`: a session is not incident state and need not wait for the
        // write lock's other holders beyond SQLite's own.
        query::execute(
            self.pool(),
            "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
            (id, data, expires_at),
        )
        .await?;
        Ok(())
    }

    /// Inserts a session unless the id is taken; `false` when it was.
    pub async fn create_session(&self, id: &str, data: &str, expires_at: i64) -> Result<bool> {
        let n = query::execute(
            self.pool(),
            "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO NOTHING",
            (id, data, expires_at),
        )
        .await?;
        Ok(n > 0)
    }

    /// The data of a session that has not expired at `now`.
    pub async fn load_session(&self, id: &str, now: i64) -> Result<Option<String>> {
        Ok(query::optional_scalar(
            self.pool(),
            "SELECT data FROM sessions WHERE id = $1 AND expires_at > $2",
            (id, now),
        )
        .await?)
    }

    pub async fn delete_session(&self, id: &str) -> Result<()> {
        query::execute(self.pool(), "DELETE FROM sessions WHERE id = $1", (id,)).await?;
        Ok(())
    }

    /// Removes sessions that expired before `now`; returns how many.
    pub async fn delete_expired_sessions(&self, now: i64) -> Result<u64> {
        Ok(query::execute(
            self.pool(),
            "DELETE FROM sessions WHERE expires_at <= $1",
            (now,),
        )
        .await?)
    }
}

impl Store {
    /// The console's shared secret: `candidate` when none was kept yet, else the one the
    /// first daemon kept.
    pub async fn console_secret(&self, candidate: &str) -> Result<String> {
        query::execute(
            self.pool(),
            "INSERT INTO console_secret (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
            (candidate,),
        )
        .await?;
        let s: String = query::scalar(
            self.pool(),
            "SELECT secret FROM console_secret WHERE id = 1",
            (),
        )
        .await?;
        Ok(s)
    }
}
