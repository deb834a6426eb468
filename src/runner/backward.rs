//! Backward walks: after the forward walk at a limit, walk back from its last item to the head
//! with the contract's `before` parameter, probe the page before the head, then make round
//! trips (`before=<first id>` of a few forward pages). Every page is judged as a list page (in
//! the order the contract gives backward pages), and against the forward listing by
//! [`BackwardState`].

use super::walk::{PageJudge, label, query_of, walk_page};
use super::{CaseRun, RunContext, request_headers};
use crate::case::{Case, WalkLimit};
use crate::check::backward::BackwardState;
use crate::check::cross_walk::fresh_since;
use crate::check::walk::{Next, WalkBounds, WalkRecord};
use crate::contract::PageOrder;
use crate::violation::PageRef;

/// Forward pages whose first item a run sends a round trip from: the second, the middle and
/// the last (each once).
const ROUND_TRIPS: usize = 3;

/// Walks back over `forward` (the case's forward walk at `limit`) and records what it finds
/// in `run`. A forward walk that did not reach the end, or found nothing, gives nothing to
/// walk back over; its own violations say why.
pub async fn walk_back(
    case: &Case,
    limit: WalkLimit,
    forward: &WalkRecord,
    bounds: WalkBounds,
    ctx: &RunContext<'_>,
    run: &mut CaseRun,
) {
    let contract = &*case.contract;
    let Some(backward) = &contract.backward else {
        return;
    };
    if !forward.complete || forward.items.is_empty() {
        return;
    }
    let page_size = limit.page_size(contract);
    let limit_value = limit.param(contract).map(|n| n.to_string());
    let mut fixed = query_of(case, &[]);
    if let Some(l) = &limit_value {
        fixed.push((&contract.limit_param, l));
    }
    fixed.sort_by_key(|(name, _)| *name);
    let mut judge = PageJudge::new(contract, &fixed, page_size);
    if backward.page_order == PageOrder::Reversed {
        judge.direction = judge.direction.reversed();
    }
    let expect = judge.expect();
    let headers = request_headers(case, ctx.target);
    let walk_label = format!("{} backward", label(case, limit, &[]));
    let fresh = fresh_since(&[forward], contract);
    let param = Some(backward.param.clone());

    // One backward page of this case's own: `before=cursor`, fetched, judged and counted.
    let before = async |cursor: &str, run: &mut CaseRun, page: &(dyn Fn() -> PageRef + Sync)| {
        let mut query = fixed.clone();
        query.push((&backward.param, cursor));
        let url = ctx.target.endpoint(&contract.path, &query);
        run.pages += 1;
        run.walked += 1;
        walk_page(ctx, url, &headers, false, &expect, run, page).await
    };

    // From the end back to the head.
    let mut state = BackwardState::from_end(contract, forward, fresh, bounds.max_pages);
    let mut cursor = state.start().map(|c| c.to_string());
    let mut probing = false;
    while let Some(c) = cursor.take() {
        let page_no = state.pages() + 1;
        let page = || PageRef {
            walk: walk_label.clone(),
            page: page_no,
            cursor: Some(c.clone()),
            probe: probing,
            param: param.clone(),
        };
        let Some(mut answer) = before(&c, run, &page).await else {
            break;
        };
        let mut found = std::mem::take(&mut answer.found);
        let next = if probing {
            found.extend(state.probe(answer.body.as_ref()));
            Next::Stop
        } else {
            let (more, next) = state.page(&c, answer.body.as_ref());
            found.extend(more);
            next
        };
        answer.locate(run, found, &page);
        match next {
            Next::Page(c) => cursor = Some(c),
            Next::Probe(c) => {
                cursor = Some(c);
                probing = true;
            }
            Next::Stop => {}
        }
    }

    // Round trips: `after=X` gave forward page k; `before=<its first id>` must end with X.
    let mut starts: Vec<usize> = Vec::new();
    let last_page = forward.items.last().map_or(1, |s| s.page);
    for k in [2, last_page.div_ceil(2).max(2), last_page] {
        if let Some(at) = forward
            .items
            .iter()
            .position(|s| s.page == k && s.slot == 0)
            && !starts.contains(&at)
            && at > 0
        {
            starts.push(at);
        }
    }
    let trip_label = format!("{} round trip", label(case, limit, &[]));
    for (n, at) in starts.into_iter().take(ROUND_TRIPS).enumerate() {
        let first = forward.items[at].id.to_string();
        let page = || PageRef {
            walk: trip_label.clone(),
            page: n as u32 + 1,
            cursor: Some(first.clone()),
            probe: false,
            param: param.clone(),
        };
        let Some(mut answer) = before(&first, run, &page).await else {
            continue;
        };
        let mut found = std::mem::take(&mut answer.found);
        let mut trip = BackwardState::round_trip(contract, forward, fresh, at);
        found.extend(trip.page(&first, answer.body.as_ref()).0);
        answer.locate(run, found, &page);
    }
}
