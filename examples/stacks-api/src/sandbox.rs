//! What a payer's own SQL may do in its database: deny by default, decided by SQLite's
//! authorizer on every table, function and command the statement touches (not by reading
//! its text), within SQLite's size limits, and stopped once it has run for its time budget.

use std::time::{Duration, Instant};

use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::limits::Limit;
use rusqlite::{Connection, ErrorCode};

use crate::error::ApiError;

/// How long one statement may run.
pub const TIME_BUDGET: Duration = Duration::from_secs(2);
/// The longest string or blob a statement may make, in bytes.
pub const MAX_VALUE_BYTES: i32 = 1024 * 1024;
/// The longest statement, in bytes.
pub const MAX_SQL_BYTES: i32 = 64 * 1024;

/// The service's tables and SQLite's own: out of a payer's reach. `sqlite_master` may only be
/// written by SQLite itself, as it records a payer's `CREATE` and `DROP`.
fn reserved(table: &str) -> bool {
    let table = table.to_ascii_lowercase();
    table.starts_with("x402_") || table.starts_with("sqlite_")
}

fn schema_table(table: &str) -> bool {
    matches!(
        table.to_ascii_lowercase().as_str(),
        "sqlite_master" | "sqlite_schema"
    )
}

fn allow_if(allowed: bool) -> Authorization {
    if allowed {
        Authorization::Allow
    } else {
        Authorization::Deny
    }
}

/// The authorizer of one statement. SQLite itself reads and writes `sqlite_master` as it
/// carries out a `CREATE`, `DROP` or `ALTER`: once the statement has been allowed one of
/// those, the schema table's bookkeeping columns are readable too (never its `sql`, which
/// would show the service's own tables' definitions).
fn authorizer() -> impl FnMut(AuthContext<'_>) -> Authorization + Send + 'static {
    let mut changes_schema = false;
    move |context| {
        let answer = authorize(context, changes_schema);
        if answer == Authorization::Allow && is_schema_change(&context.action) {
            changes_schema = true;
        }
        answer
    }
}

fn is_schema_change(action: &AuthAction<'_>) -> bool {
    matches!(
        action,
        AuthAction::CreateTable { .. }
            | AuthAction::DropTable { .. }
            | AuthAction::CreateIndex { .. }
            | AuthAction::DropIndex { .. }
            | AuthAction::AlterTable { .. }
            | AuthAction::CreateView { .. }
            | AuthAction::DropView { .. }
    )
}

fn authorize(context: AuthContext<'_>, changes_schema: bool) -> Authorization {
    // The main database only: no temp schema, no attached files.
    if context.database_name.is_some_and(|db| db != "main") {
        return Authorization::Deny;
    }
    match context.action {
        AuthAction::Select | AuthAction::Recursive => Authorization::Allow,
        AuthAction::Read {
            table_name,
            column_name,
        } => allow_if(
            !reserved(table_name)
                || (changes_schema
                    && schema_table(table_name)
                    && !column_name.eq_ignore_ascii_case("sql")),
        ),
        AuthAction::Insert { table_name }
        | AuthAction::Update { table_name, .. }
        | AuthAction::Delete { table_name } => {
            allow_if(!reserved(table_name) || schema_table(table_name))
        }
        AuthAction::CreateTable { table_name }
        | AuthAction::DropTable { table_name, .. }
        | AuthAction::CreateIndex { table_name, .. }
        | AuthAction::DropIndex { table_name, .. }
        | AuthAction::AlterTable { table_name, .. } => allow_if(!reserved(table_name)),
        AuthAction::CreateView { view_name } | AuthAction::DropView { view_name } => {
            allow_if(!reserved(view_name))
        }
        AuthAction::Function { function_name } => {
            allow_if(!function_name.eq_ignore_ascii_case("load_extension"))
        }
        // PRAGMAs, ATTACH, triggers, temp objects, virtual tables, transactions, ANALYZE,
        // REINDEX and anything SQLite adds later.
        _ => Authorization::Deny,
    }
}

/// Puts `connection` in the sandbox: the authorizer, the limits, and the clock from now.
pub fn enter(connection: &Connection) -> Result<(), ApiError> {
    let limits = [
        (Limit::SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES),
        (Limit::SQLITE_LIMIT_SQL_LENGTH, MAX_SQL_BYTES),
        (Limit::SQLITE_LIMIT_COLUMN, 200),
        (Limit::SQLITE_LIMIT_EXPR_DEPTH, 100),
        (Limit::SQLITE_LIMIT_COMPOUND_SELECT, 20),
        (Limit::SQLITE_LIMIT_FUNCTION_ARG, 32),
        (Limit::SQLITE_LIMIT_ATTACHED, 0),
        (Limit::SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 1000),
        (Limit::SQLITE_LIMIT_VARIABLE_NUMBER, 100),
        (Limit::SQLITE_LIMIT_TRIGGER_DEPTH, 1),
    ];
    for (limit, value) in limits {
        connection
            .set_limit(limit, value)
            .map_err(|e| ApiError::internal("cannot limit SQL", e))?;
    }
    connection.authorizer(Some(authorizer()));
    let deadline = Instant::now() + TIME_BUDGET;
    // Asked every 10,000 steps of the VM: true interrupts the statement.
    connection.progress_handler(10_000, Some(move || Instant::now() > deadline));
    Ok(())
}

/// A payer's statement that failed, as the payer's 4xx: it is their SQL, never our fault.
pub fn refusal(error: &rusqlite::Error) -> ApiError {
    let message = error.to_string();
    // A denied table or command is SQLITE_AUTH; a denied function, a plain error saying so.
    let denied = error.sqlite_error_code() == Some(ErrorCode::AuthorizationForStatementDenied)
        || message.starts_with("not authorized");
    match error.sqlite_error_code() {
        _ if denied => ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            format!(
                "not allowed here: {message} (your own tables only; no PRAGMA, ATTACH, triggers or transactions)"
            ),
        ),
        Some(ErrorCode::OperationInterrupted) => ApiError::bad_request(format!(
            "the statement ran past its {} s budget and was stopped",
            TIME_BUDGET.as_secs()
        )),
        Some(ErrorCode::TooBig) => ApiError::too_large(format!(
            "a value or the statement is too large (values up to {MAX_VALUE_BYTES} bytes, statements up to {MAX_SQL_BYTES}): {message}"
        )),
        Some(ErrorCode::DiskFull) => crate::store::database_full(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            ApiError::conflict("your database is busy with another call: try again")
        }
        _ => ApiError::bad_request(format!("SQL error: {message}")),
    }
}
