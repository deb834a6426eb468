//! Paging over the listing: the order a request sees, its filters, where its cursor sits, and
//! the slice, `has_more`, `first_id`/`last_id` and next-page token of its page (with the faults
//! that bend the paging itself).

use super::answer::Answer;
use serde_json::Value;

use super::fault::Fault;
use super::responder::{Query, Refusal, Responder};
use crate::contract::{CursorSource, Direction, PageOrder};

/// The position in the listing of the batch `DeepItemUnknownStatus` breaks: past the first
/// page at any limit up to 200.
const DEEP_ITEM: usize = 200;
/// How many matching items of a filtered listing come before the one `FilterLeaksOne` leaks
/// and the one `FilterDropsOne` drops: past the first page at limit 7.
const FILTER_FAULT_AT: usize = 8;
/// What every next-page token starts with (the rest is the hex of the last item's id).
const TOKEN_PREFIX: &str = "pt1";

/// An opaque next-page token for the item `id`.
fn token_for(id: &str) -> String {
    let hex: String = id.bytes().map(|b| format!("{b:02x}")).collect();
    format!("{TOKEN_PREFIX}{hex}")
}

/// The item id a token of [`token_for`] stands for.
fn id_of_token(token: &str) -> Option<String> {
    let hex = token.strip_prefix(TOKEN_PREFIX)?;
    if hex.len() % 2 != 0 || !hex.is_ascii() {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

/// Which way a request pages from its cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Way {
    Forward,
    Backward,
}

impl Responder {
    /// The listing in the order this request sees it: the stored listing is newest first, an
    /// ascending request sees it reversed (ties included, so `asc` is exactly `desc` reversed).
    fn ordered<'a>(
        &self,
        items: &'a [Value],
        limit: usize,
        after: Option<&str>,
        direction: Direction,
    ) -> Vec<&'a Value> {
        let flipped = self.has(Fault::OldestFirst) || self.has(Fault::PagesOldestFirst);
        let mut listing: Vec<&Value> = if (direction == Direction::Asc) != flipped {
            items.iter().rev().collect()
        } else {
            items.iter().collect()
        };
        let key = self.config.order_key.as_str();
        let ties = |a: &&Value, b: &&Value| a.get(key) == b.get(key);
        if self.has(Fault::TieOrderDependsOnLimit) && limit % 2 == 1 {
            for run in listing.chunk_by_mut(ties) {
                run.reverse();
            }
        }
        if self.has(Fault::TiesUnstable) {
            // No tie-break: each request sees ties in an order of its own. FNV-1a of the
            // request, so the order is the same on every toolchain.
            let request = format!("{limit}:{}", after.unwrap_or(""));
            let turn = request.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            }) as usize;
            for (n, run) in listing.chunk_by_mut(ties).enumerate() {
                let len = run.len();
                run.rotate_left(turn.wrapping_add(n) % len);
            }
        }
        listing
    }

    /// The direction a request asks for; an unknown value is refused.
    pub(super) fn direction(&self, query: &Query) -> Result<Direction, Refusal> {
        let param = match &self.config.order_param {
            Some(param) if !self.has(Fault::OrderIgnored) => param,
            _ => return Ok(self.config.order),
        };
        match query.get(&param.name) {
            None => Ok(self.config.order),
            Some(v) if v == param.asc => Ok(Direction::Asc),
            Some(v) if v == param.desc => Ok(Direction::Desc),
            Some(v) => Err(Box::new(self.error(
                400,
                &format!(
                    "Invalid value for '{}': expected one of '{}' or '{}', but got '{v}'.",
                    param.name, param.asc, param.desc
                ),
                Some(&param.name),
                Some("invalid_value"),
            ))),
        }
    }

    /// The positions in `listing` a request's filters let through, in order (all of them when
    /// it sends none), or what a filter fault makes of them.
    fn visible(&self, listing: &[&Value], query: &Query) -> Vec<usize> {
        if self.has(Fault::FilterAfterPaging) {
            // Paged unfiltered; each page is filtered after (see `page`).
            return (0..listing.len()).collect();
        }
        self.matching(listing, query)
    }

    /// The positions in `listing` of the items that match the query's filters (all of them
    /// when it has none), with the filter faults applied.
    fn matching(&self, listing: &[&Value], query: &Query) -> Vec<usize> {
        let filters: Vec<(&str, &str)> = if self.has(Fault::FilterIgnored) {
            Vec::new()
        } else {
            self.config
                .filters
                .iter()
                .filter_map(|f| Some((f.field.as_str(), query.get(&f.param)?)))
                .collect()
        };
        if filters.is_empty() {
            return (0..listing.len()).collect();
        }
        let matches = |item: &Value| {
            filters.iter().all(
                |(field, wanted)| match crate::contract::pointer(item, field) {
                    Some(Value::String(s)) => s == wanted,
                    Some(Value::Number(n)) => {
                        wanted.parse::<serde_json::Number>().ok().as_ref() == Some(n)
                    }
                    Some(Value::Bool(b)) => *wanted == if *b { "true" } else { "false" },
                    _ => false,
                },
            )
        };
        let mut seen = 0;
        let mut leaked = false;
        let mut visible = Vec::new();
        for (i, item) in listing.iter().enumerate() {
            if matches(item) {
                seen += 1;
                if self.has(Fault::FilterDropsOne) && seen == FILTER_FAULT_AT + 1 {
                    continue;
                }
                visible.push(i);
            } else if self.has(Fault::FilterLeaksOne) && !leaked && seen >= FILTER_FAULT_AT {
                leaked = true;
                visible.push(i);
            }
        }
        visible
    }

    /// Where `cursor` (an id, or a token in the token scheme) sits in `listing`.
    fn locate(
        &self,
        listing: &[&Value],
        cursor: &str,
        param: &str,
        token: bool,
    ) -> Result<usize, Refusal> {
        let crash = || Box::new(Answer::new(500).set_body_string("Internal Server Error"));
        let decoded;
        let id = if token {
            if self.has(Fault::UnknownAfterCrashes) && id_of_token(cursor).is_none() {
                return Err(crash());
            }
            decoded = id_of_token(cursor).ok_or_else(|| {
                Box::new(self.error(
                    400,
                    &format!("Invalid '{param}': `{cursor}` is not a page token of this list."),
                    Some(param),
                    Some("invalid_cursor"),
                ))
            })?;
            decoded.as_str()
        } else {
            cursor
        };
        if let Some(k) = listing.iter().position(|b| self.id_of(b) == Some(id)) {
            return Ok(k);
        }
        if self.has(Fault::UnknownAfterCrashes) {
            return Err(crash());
        }
        let noun = if self.config.examples.is_some() {
            "object"
        } else {
            "batch"
        };
        Err(Box::new(self.error(
            404,
            &format!("No {noun} found with id '{id}'."),
            Some(param),
            None,
        )))
    }

    pub(super) fn page(
        &self,
        items: &[Value],
        limit: usize,
        query: &Query,
    ) -> Result<Value, Refusal> {
        let after = query.get(&self.config.cursor_param);
        let before = self
            .config
            .backward
            .as_ref()
            .and_then(|b| query.get(&b.param).map(|v| (b, v)));
        if let (Some(_), Some((backward, _))) = (after, before) {
            return Err(Box::new(self.error(
                400,
                &format!(
                    "Only one of '{}' and '{}' may be given.",
                    self.config.cursor_param, backward.param
                ),
                Some(&backward.param),
                None,
            )));
        }
        let direction = self.direction(query)?;
        let listing = self.ordered(items, limit, after, direction);
        let visible = self.visible(&listing, query);
        let len = visible.len();
        let take = if self.has(Fault::LimitPlusOne) {
            limit + 1
        } else if self.config.short_pages {
            limit.div_ceil(2)
        } else {
            limit
        };
        // The first page boundary at or past the middle, for the faults that strike once.
        let once_at = (len / 2).div_ceil(limit.max(1)) * limit.max(1);
        let token_scheme = self.config.cursor_source == CursorSource::Token;

        let (way, start, end, has_more) = if let Some((backward, cursor)) = before {
            let k = self.locate(&listing, cursor, &backward.param, false)?;
            // The visible items before the cursor, and the cursor itself if it is one.
            let before_cursor = visible.partition_point(|&j| j < k);
            let own = visible.get(before_cursor) == Some(&k);
            let end = if own && self.has(Fault::BackwardInclusive) {
                before_cursor + 1
            } else {
                before_cursor
            };
            let start = end.saturating_sub(take);
            let early = self.has(Fault::BackwardHasMoreFalseEarly) && before_cursor + limit >= len;
            (Way::Backward, start, end, start > 0 && !early)
        } else {
            let start = match after {
                None => 0,
                Some(_) if self.has(Fault::CursorIgnored) => 0,
                Some(cursor) => {
                    let k =
                        self.locate(&listing, cursor, &self.config.cursor_param, token_scheme)?;
                    // The first visible item after the cursor.
                    let next = visible.partition_point(|&j| j <= k);
                    if self.has(Fault::CursorInclusive) {
                        next.saturating_sub(1)
                    } else if self.has(Fault::TieSkip) {
                        // `key < cursor's key`: past every item tied with the cursor.
                        let key = self.config.order_key.as_str();
                        let tied = listing[k].get(key);
                        next + visible[next..]
                            .iter()
                            .take_while(|&&j| listing[j].get(key) == tied)
                            .count()
                    } else if self.has(Fault::CursorSkipsOne)
                        || (self.has(Fault::MaxLimitSkipsOne)
                            && limit as u64 == self.config.max_limit)
                    {
                        next + 1
                    } else if self.has(Fault::PagesOldestFirst) {
                        (next + limit).saturating_sub(1)
                    } else if self.has(Fault::DuplicateOnce) && next == once_at {
                        next.saturating_sub(1)
                    } else if self.has(Fault::GapOnce) && next == once_at {
                        next + 1
                    } else if self.has(Fault::WrapAround) && next == len {
                        0
                    } else {
                        next
                    }
                }
            }
            .min(len);
            let empty_midway = self.has(Fault::EmptyPageMidway)
                && after.is_some()
                && start == once_at
                && start < len;
            let end = if empty_midway {
                start
            } else {
                (start + take).min(len)
            };
            let lies_true = self.has(Fault::HasMoreAlwaysTrue) || self.has(Fault::WrapAround);
            let lies_false = (self.has(Fault::HasMoreFalseEarly) && after.is_none())
                || (self.has(Fault::HasMoreFalseMidway) && (start..end).contains(&(len / 2)));
            let has_more = lies_true || empty_midway || (!lies_false && end < len);
            (Way::Forward, start, end, has_more)
        };

        let deep_id = items.get(DEEP_ITEM).and_then(|b| self.id_of(b));
        let mut data: Vec<Value> = visible[start..end]
            .iter()
            .map(|&j| listing[j].clone())
            .collect();
        let reversed_backward = before.is_some_and(|(b, _)| {
            (b.page_order == PageOrder::Reversed) != self.has(Fault::BackwardPageReversed)
        });
        if self.has(Fault::PagesOldestFirst) || reversed_backward {
            data.reverse();
        }
        if self.has(Fault::FilterAfterPaging) && way == Way::Forward {
            let page: Vec<&Value> = data.iter().collect();
            let kept = self.matching(&page, query);
            data = kept.iter().map(|&i| data[i].clone()).collect();
        }
        if self.has(Fault::UnsortedPage) && data.len() >= 3 {
            data.swap(1, 2);
        }
        let id = |i: usize| {
            data.get(i)
                .and_then(|b| b.get(&self.config.id_field))
                .cloned()
                .unwrap_or(Value::Null)
        };
        let first = if self.has(Fault::WrongFirstId) && data.len() > 1 {
            id(1)
        } else if self.has(Fault::FirstIdNull) {
            Value::Null
        } else {
            id(0)
        };
        let last_index = data.len().saturating_sub(1);
        let last = if self.has(Fault::WrongLastId) && data.len() > 1 {
            id(last_index - 1)
        } else {
            id(last_index)
        };
        let token = if !token_scheme {
            None
        } else if self.has(Fault::CursorTokenReused) && way == Way::Forward && start == take {
            // The page after the first one hands out the token it was asked with.
            after.map(Value::from)
        } else {
            let more = match way {
                Way::Forward => has_more,
                Way::Backward => end < len,
            };
            Some(match id(last_index).as_str().filter(|_| more) {
                Some(last) => token_for(last).into(),
                None => Value::Null,
            })
        };
        for item in &mut data {
            let deep = deep_id.is_some() && self.id_of(item) == deep_id;
            self.drift_item(item, deep);
        }
        Ok(self.envelope(
            data,
            first,
            last,
            has_more,
            after.or(before.map(|b| b.1)),
            token,
        ))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::mock::testing::{config, ids, query, responder};

    /// The ids of a page and its `has_more`, `first_id` and `last_id`.
    fn seen(page: &Value) -> (Vec<String>, bool, Value, Value) {
        let data = page["data"].as_array().expect("a page");
        (
            ids(data),
            page["has_more"].as_bool().expect("has_more"),
            page["first_id"].clone(),
            page["last_id"].clone(),
        )
    }

    #[test]
    fn a_page_is_the_slice_after_its_cursor_with_has_more() {
        let (mock, items) = responder(config(10));
        let all = ids(&items);
        let page = |pairs: &[(&str, &str)], limit| {
            seen(&mock.page(&items, limit, &query(pairs)).expect("a page"))
        };
        let (first, more, first_id, last_id) = page(&[], 3);
        assert_eq!(first, all[..3]);
        assert!(more);
        assert_eq!(
            (first_id, last_id),
            (all[0].clone().into(), all[2].clone().into())
        );
        let (next, more, ..) = page(&[("after", &all[2])], 3);
        assert_eq!(next, all[3..6]);
        assert!(more);
        let (last, more, ..) = page(&[("after", &all[7])], 3);
        assert_eq!(last, all[8..]);
        assert!(!more, "the last page");
        let (empty, more, first_id, last_id) = page(&[("after", &all[9])], 3);
        assert!(empty.is_empty() && !more);
        assert_eq!((first_id, last_id), (Value::Null, Value::Null));
        let (whole, more, ..) = page(&[], 100);
        assert_eq!((whole, more), (all, false));
    }

    #[test]
    fn an_unknown_cursor_is_refused() {
        let (mock, items) = responder(config(5));
        assert!(
            mock.page(&items, 3, &query(&[("after", "batch_nope")]))
                .is_err()
        );
    }

    #[test]
    fn paging_faults_move_the_slice_and_has_more() {
        let all = |items: &[Value]| ids(items);
        let (mock, items) = responder(config(10).fault(Fault::CursorSkipsOne));
        let ids10 = all(&items);
        let page = mock
            .page(&items, 3, &query(&[("after", &ids10[2])]))
            .unwrap();
        assert_eq!(seen(&page).0, ids10[4..7], "one item skipped");
        let (mock, items) = responder(config(10).fault(Fault::CursorInclusive));
        let page = mock
            .page(&items, 3, &query(&[("after", &ids10[2])]))
            .unwrap();
        assert_eq!(seen(&page).0, ids10[2..5], "the cursor's own item again");
        let (mock, items) = responder(config(10).fault(Fault::HasMoreFalseEarly));
        let page = mock.page(&items, 3, &query(&[])).unwrap();
        assert_eq!(seen(&page).0, ids10[..3]);
        assert!(!seen(&page).1, "has_more false on the first page");
        let (mock, items) = responder(config(10).fault(Fault::LimitPlusOne));
        assert_eq!(
            seen(&mock.page(&items, 3, &query(&[])).unwrap()).0,
            ids10[..4]
        );
    }

    #[test]
    fn tokens_stand_for_their_item_and_nothing_else() {
        let token = token_for("file-abc");
        assert_eq!(token, "pt166696c652d616263");
        assert_eq!(id_of_token(&token).as_deref(), Some("file-abc"));
        for bad in ["file-abc", "pt1", "pt1f", "pt1zz", "xx66"] {
            assert_eq!(
                id_of_token(bad).as_deref(),
                if bad == "pt1" { Some("") } else { None }
            );
        }
    }
}
