//! The queue's page cursor as the API and the console hand it out: the ordering columns of
//! the last ticket of a page, opaque to the client.

use base64::Engine;
use caredesk_store::QueueCursor;

use crate::error::ApiError;

/// The text a client sends back to get the page after this ticket.
pub fn encode_cursor(cursor: &QueueCursor) -> String {
    let text = format!(
        "{}.{}.{}.{}",
        cursor.severity_rank, cursor.placement_rank, cursor.due_sort, cursor.id
    );
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

/// The position a client's cursor names; one this server did not give out is refused.
pub fn decode_cursor(text: &str) -> Result<QueueCursor, ApiError> {
    let invalid = || ApiError::invalid("after", "not a cursor this server gave out");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let parts: Vec<i64> = text
        .split('.')
        .map(|part| part.parse().map_err(|_| invalid()))
        .collect::<Result<_, _>>()?;
    match parts.as_slice() {
        [severity_rank, placement_rank, due_sort, id] => Ok(QueueCursor {
            severity_rank: *severity_rank,
            placement_rank: *placement_rank,
            due_sort: *due_sort,
            id: *id,
        }),
        _ => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_comes_back_as_it_went_out_and_a_forged_one_is_refused() {
        let cursor = QueueCursor {
            severity_rank: 1,
            placement_rank: 0,
            due_sort: 1_795_000_000,
            id: 42,
        };
        assert_eq!(decode_cursor(&encode_cursor(&cursor)).unwrap(), cursor);
        assert!(decode_cursor("not-a-cursor").is_err());
        let short = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("1.2");
        assert!(decode_cursor(&short).is_err());
    }
}
