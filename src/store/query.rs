//! One statement: its text, its parameters in order (`$1`, `$2`, …) as a tuple, and how its
//! answer is read. Every query of the store is one call here instead of a chain of
//! `.bind(…)` lines ending in the same fetch, so a function's body is its SQL.
//!
//! The errors are sqlx's own, so a caller can still ask a database error for its code.

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::error::BoxDynError;
use sqlx::{Any, Arguments, Encode, Executor, FromRow, Type};

/// A statement's parameters, bound in order: a tuple of anything sqlx binds (`()` for
/// none), a `Vec` of them (an `IN` list), or one after another with [`Params::then`].
pub(super) trait Params<'q>: Sized {
    fn add_to(self, arguments: &mut AnyArguments<'q>) -> Result<(), BoxDynError>;

    /// These parameters, then `next`.
    fn then<P: Params<'q>>(self, next: P) -> Then<Self, P> {
        Then(self, next)
    }
}

/// Two runs of parameters, one after the other.
pub(super) struct Then<A, B>(A, B);

impl<'q, A: Params<'q>, B: Params<'q>> Params<'q> for Then<A, B> {
    fn add_to(self, arguments: &mut AnyArguments<'q>) -> Result<(), BoxDynError> {
        self.0.add_to(arguments)?;
        self.1.add_to(arguments)
    }
}

impl<'q, T: 'q + Encode<'q, Any> + Type<Any>> Params<'q> for Vec<T> {
    fn add_to(self, arguments: &mut AnyArguments<'q>) -> Result<(), BoxDynError> {
        for value in self {
            arguments.add(value)?;
        }
        Ok(())
    }
}

macro_rules! params {
    ($($name:ident),*) => {
        impl<'q, $($name),*> Params<'q> for ($($name,)*)
        where
            $($name: 'q + Encode<'q, Any> + Type<Any>,)*
        {
            #[allow(non_snake_case, unused_variables)]
            fn add_to(self, arguments: &mut AnyArguments<'q>) -> Result<(), BoxDynError> {
                let ($($name,)*) = self;
                $(arguments.add($name)?;)*
                Ok(())
            }
        }
    };
}

params!();
params!(A);
params!(A, B);
params!(A, B, C);
params!(A, B, C, D);
params!(A, B, C, D, E);
params!(A, B, C, D, E, F);
params!(A, B, C, D, E, F, G);
params!(A, B, C, D, E, F, G, H);
params!(A, B, C, D, E, F, G, H, I);
params!(A, B, C, D, E, F, G, H, I, J);
params!(A, B, C, D, E, F, G, H, I, J, K);
params!(A, B, C, D, E, F, G, H, I, J, K, L);
params!(A, B, C, D, E, F, G, H, I, J, K, L, M);
params!(A, B, C, D, E, F, G, H, I, J, K, L, M, N);
params!(A, B, C, D, E, F, G, H, I, J, K, L, M, N, O);
params!(A, B, C, D, E, F, G, H, I, J, K, L, M, N, O, P);

/// `$from, $from+1, …`: the placeholders of an `IN` list of `n` parameters from the
/// `from`-th; `NULL` for none (`IN ()` is not SQL everywhere, `IN (NULL)` matches nothing).
pub(super) fn placeholders(from: usize, n: usize) -> String {
    if n == 0 {
        return "NULL".to_string();
    }
    let marks: Vec<String> = (from..from + n).map(|i| format!("${i}")).collect();
    marks.join(", ")
}

/// The parameters as sqlx takes them; one that does not encode fails the statement, as a
/// failed `.bind` would.
fn arguments<'q>(params: impl Params<'q>) -> sqlx::Result<AnyArguments<'q>> {
    let mut arguments = AnyArguments::default();
    params.add_to(&mut arguments).map_err(sqlx::Error::Encode)?;
    Ok(arguments)
}

/// Runs a statement that returns no rows; how many rows it changed.
pub(super) async fn execute<'q, 'c>(
    ex: impl Executor<'c, Database = Any>,
    sql: &'q str,
    params: impl Params<'q>,
) -> sqlx::Result<u64> {
    let done = sqlx::query_with(sql, arguments(params)?)
        .execute(ex)
        .await?;
    Ok(done.rows_affected())
}

/// What a row is read as: a `FromRow` struct, or a tuple of columns.
pub(super) trait Row: for<'r> FromRow<'r, AnyRow> + Send + Unpin {}

impl<T: for<'r> FromRow<'r, AnyRow> + Send + Unpin> Row for T {}

/// Every row the statement answers, each read as a `T`. Its text may live shorter than the
/// parameters (a statement built by the function that runs it, `Store::claim_due`).
pub(super) async fn all<'s, 'q: 's, 'c, T: Row>(
    ex: impl Executor<'c, Database = Any>,
    sql: &'s str,
    params: impl Params<'q>,
) -> sqlx::Result<Vec<T>> {
    sqlx::query_as_with(sql, arguments(params)?)
        .fetch_all(ex)
        .await
}

/// Every row the statement answers, each read as a `T` on its own: a row that does not
/// decode (a value written by a newer version) is given as its `id` column and why (the
/// error's causes, each once), and the others are read all the same.
pub(super) async fn each<'q, 'c, T: Row>(
    ex: impl Executor<'c, Database = Any>,
    sql: &'q str,
    params: impl Params<'q>,
) -> sqlx::Result<(Vec<T>, Vec<(i64, String)>)> {
    let rows = sqlx::query_with(sql, arguments(params)?)
        .fetch_all(ex)
        .await?;
    let (mut read, mut unread) = (Vec::with_capacity(rows.len()), Vec::new());
    for row in &rows {
        match T::from_row(row) {
            Ok(t) => read.push(t),
            Err(e) => {
                let id = sqlx::Row::try_get(row, "id").unwrap_or(0);
                unread.push((id, crate::vocab::text::error_chain(&e.into())));
            }
        }
    }
    Ok((read, unread))
}

/// The one row the statement answers (none is an error).
pub(super) async fn one<'q, 'c, T: Row>(
    ex: impl Executor<'c, Database = Any>,
    sql: &'q str,
    params: impl Params<'q>,
) -> sqlx::Result<T> {
    optional(ex, sql, params)
        .await?
        .ok_or(sqlx::Error::RowNotFound)
}

/// The row the statement answers, if any. Its text may live shorter than the parameters
/// (a statement built by the function that runs it).
pub(super) async fn optional<'s, 'q: 's, 'c, T: Row>(
    ex: impl Executor<'c, Database = Any>,
    sql: &'s str,
    params: impl Params<'q>,
) -> sqlx::Result<Option<T>> {
    sqlx::query_as_with(sql, arguments(params)?)
        .fetch_optional(ex)
        .await
}

/// The value the statement answers: its one row's one column (`SELECT COUNT(*) …`).
pub(super) async fn scalar<'q, 'c, T>(
    ex: impl Executor<'c, Database = Any>,
    sql: &'q str,
    params: impl Params<'q>,
) -> sqlx::Result<T>
where
    (T,): Row,
{
    let (value,) = one(ex, sql, params).await?;
    Ok(value)
}

/// The value of the row the statement answers, if it answers one.
pub(super) async fn optional_scalar<'s, 'q: 's, 'c, T>(
    ex: impl Executor<'c, Database = Any>,
    sql: &'s str,
    params: impl Params<'q>,
) -> sqlx::Result<Option<T>>
where
    (T,): Row,
{
    Ok(optional(ex, sql, params).await?.map(|(value,)| value))
}

/// The one column of every row the statement answers.
pub(super) async fn scalars<'q, 'c, T>(
    ex: impl Executor<'c, Database = Any>,
    sql: &'q str,
    params: impl Params<'q>,
) -> sqlx::Result<Vec<T>>
where
    (T,): Row,
{
    let rows: Vec<(T,)> = all(ex, sql, params).await?;
    Ok(rows.into_iter().map(|(value,)| value).collect())
}
