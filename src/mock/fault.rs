//! The fault registry: every way the reference mock can drift, listed once, with its family,
//! its name and the suites it can show on.

use strum::{IntoStaticStr, VariantArray};

use crate::contract::{AuthStyle, Contract, CursorSource, KeyKind};

/// A family of drift, as the drift catalogue of docs/invariants.md groups them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, VariantArray, IntoStaticStr)]
pub enum Family {
    /// Fields missing, renamed, retyped, nulled or re-enumerated; envelopes of another shape.
    #[strum(serialize = "schema")]
    Schema,
    /// One page on its own: size, default limit, `first_id`/`last_id`, empty pages, order.
    #[strum(serialize = "page")]
    Page,
    /// Between pages: `has_more`, cursors, duplicates, gaps, orders that change.
    #[strum(serialize = "walk")]
    Walk,
    /// Errors and auth: keys not checked, invalid parameters accepted or crashing.
    #[strum(serialize = "negative and auth")]
    Negative,
    /// The HTTP layer: hangs, truncated bodies, wrong content types, persistent 5xx.
    #[strum(serialize = "transport")]
    Transport,
    /// Values that keep their JSON type but lose their meaning.
    #[strum(serialize = "plausibility")]
    Plausibility,
    /// Backward pages, the order parameter and filters.
    #[strum(serialize = "backward, order and filters")]
    Paging,
}

impl Family {
    /// Every family, in declaration order (derived: a new variant is in it).
    pub const ALL: &'static [Family] = <Family as VariantArray>::VARIANTS;

    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// The drift catalogue, listed once. Each fault is one line, `Variant(snake_name): Family,`,
/// under the doc comment that says how real servers come to do it ("(wild)" marks drift the
/// contract lists as seen in public).
///
/// Callback style: `for_each_fault!(m)` expands to
/// `m! { $( $(#[doc = "…"])* Variant(snake_name): Family, )* }`. The [`Fault`] enum, its
/// `ALL`, `name` and `family` are generated from it here, and the tests generate one
/// `#[test]` per suite × fault from it (tests/suites.rs, tests/suite_mock.rs). So adding a
/// fault is adding its line here, plus its behaviour (`drift.rs`, `paging.rs` or
/// `responder.rs`) and, if it shows on some suites only, its arm of [`Fault::applies_to`]: the
/// catalogue tests then reach it without being told, and fail naming it until
/// tests/common/catalogue.rs has its entry and tests/catalogue.rs its test.
#[macro_export]
#[doc(hidden)]
macro_rules! for_each_fault {
    ($callback:ident) => {
        $callback! {
            // Schema drift.
            /// `created_at` is sent as a string on every item (wild).
            CreatedAtAsString(created_at_as_string): Schema,
            /// The envelope has no `has_more` (wild; openai-node then stops after page one).
            MissingHasMore(missing_has_more): Schema,
            /// `has_more` is `null` (wild: a nullable field in a compatible server's model).
            HasMoreNull(has_more_null): Schema,
            /// The envelope has no `first_id` and `last_id` (wild).
            MissingFirstLastId(missing_first_last_id): Schema,
            /// The envelope calls its array `items` instead of `data` (a renamed envelope key).
            DataRenamed(data_renamed): Schema,
            /// An empty page sends `data: null` (wild: a nullable slice serialized as null).
            DataNullWhenEmpty(data_null_when_empty): Schema,
            /// The envelope's `object` is `"page"` instead of `"list"`.
            EnvelopeObjectRenamed(envelope_object_renamed): Schema,
            /// The body is a bare array of batches, with no envelope (wild).
            BareArray(bare_array): Schema,
            /// Another envelope altogether: `{"batches": [...], "next_cursor": ...}`.
            CursorEnvelope(cursor_envelope): Schema,
            /// Items carry `batch_id` instead of `id` (a renamed item field).
            IdRenamed(id_renamed): Schema,
            /// Items' `object` is `"batch_job"` instead of `"batch"`.
            ItemObjectRenamed(item_object_renamed): Schema,
            /// The status `in_progress` is sent as `running` (a re-enumerated field).
            StatusRenamed(status_renamed): Schema,
            /// `errors` is a string on failed batches (wild).
            ErrorsAsString(errors_as_string): Schema,
            /// `input_file_id` is `null` on every item (a required field nulled).
            InputFileIdNull(input_file_id_null): Schema,
            /// `request_counts` values are strings (retyped nested fields).
            RequestCountsAsStrings(request_counts_as_strings): Schema,
            /// `metadata` values are numbers where strings are required.
            MetadataValueNumber(metadata_value_number): Schema,
            /// One batch deep in the listing (the 201st) has a status outside the enum: only a walk
            /// reaches it.
            DeepItemUnknownStatus(deep_item_unknown_status): Schema,
            /// RFC 3339 times are sent as Unix-second integers (a compatible server that reuses its
            /// OpenAI models for an Anthropic endpoint). Suites with RFC 3339 order keys.
            TimesAsIntegers(times_as_integers): Schema,

            // Page invariants.
            /// Pages hold one item more than the limit.
            LimitPlusOne(limit_plus_one): Page,
            /// With no `limit`, a page holds 50 items (the contract's default is 20).
            DefaultLimitWrong(default_limit_wrong): Page,
            /// `limit` is ignored: every page holds the default number of items.
            LimitIgnored(limit_ignored): Page,
            /// `first_id` names the second item.
            WrongFirstId(wrong_first_id): Page,
            /// `last_id` names the second-to-last item.
            WrongLastId(wrong_last_id): Page,
            /// `first_id` is `null` on pages that have items.
            FirstIdNull(first_id_null): Page,
            /// Empty pages claim `has_more: true` and carry ids (wild).
            EmptyPageLies(empty_page_lies): Page,
            /// Empty pages repeat the cursor as `first_id` and `last_id`.
            EmptyPageStaleIds(empty_page_stale_ids): Page,
            /// The listing is served oldest first (on a suite with an `order` parameter: in the
            /// other direction than asked).
            OldestFirst(oldest_first): Page,
            /// The second and third items of every page are swapped (a sort applied to part of it).
            UnsortedPage(unsorted_page): Page,
            /// `data[].id` carries a routing prefix (`litellm_proxy:`) while `first_id` and `last_id`
            /// stay the raw ids, and the prefixed ids are unknown as cursors (wild: the LiteLLM proxy
            /// under model routing; the official SDK then gets a 404 on page 2).
            LastIdRaw(last_id_raw): Page,

            // Walk invariants.
            /// `after` is ignored: every request gets the first page (wild: a proxy that drops it).
            CursorIgnored(cursor_ignored): Walk,
            /// The page after a cursor starts with the cursor's own item (`>=` where `>` was meant).
            CursorInclusive(cursor_inclusive): Walk,
            /// The page after a cursor starts one item late: an item is skipped at every boundary.
            CursorSkipsOne(cursor_skips_one): Walk,
            /// Only at the maximum limit, the page after a cursor starts one item late (an
            /// off-by-one in one code path): no single walk can see it.
            MaxLimitSkipsOne(max_limit_skips_one): Walk,
            /// The page after a cursor starts at the first item with an order key past the
            /// cursor's: items tied with the cursor are skipped (wild: llama-stack's
            /// `created_at < cursor` with no tie-break on id). Every suite's data has ties.
            TieSkip(tie_skip): Walk,
            /// The item at the first page boundary at or past the middle of the listing is served
            /// again at the top of the next page, once.
            DuplicateOnce(duplicate_once): Walk,
            /// The item after the first page boundary at or past the middle of the listing is
            /// skipped, once.
            GapOnce(gap_once): Walk,
            /// `has_more` is true on every page, the last one included.
            HasMoreAlwaysTrue(has_more_always_true): Walk,
            /// `has_more` is false on the first page, although more items follow.
            HasMoreFalseEarly(has_more_false_early): Walk,
            /// `has_more` is false on the page that holds the middle of the listing.
            HasMoreFalseMidway(has_more_false_midway): Walk,
            /// The page after the first boundary at or past the middle is empty, `has_more` true
            /// (wild: pages of `data: []` with `has_more: true`).
            EmptyPageMidway(empty_page_midway): Walk,
            /// After the last item, the cursor wraps around to the first page, `has_more` still true.
            WrapAround(wrap_around): Walk,
            /// Pages run from the oldest items to the newest, each sorted newest first inside (a
            /// server that pages ascending and sorts each page for display).
            PagesOldestFirst(pages_oldest_first): Walk,
            /// Items with equal `created_at` come in reverse order when the limit is odd (a query plan
            /// that changes with the limit): every walk is consistent, but walks disagree.
            TieOrderDependsOnLimit(tie_order_depends_on_limit): Walk,
            /// Items with equal `created_at` come in an order that changes from request to request
            /// (wild: ties with no tie-break).
            TiesUnstable(ties_unstable): Walk,
            /// Token cursors: the second page's next-page token repeats the first page's (a token
            /// cached per session and never advanced). Suites with `cursor_source = "token"`.
            CursorTokenReused(cursor_token_reused): Walk,

            // Negative and auth.
            /// Any key, or none, is answered with 200.
            AuthNotChecked(auth_not_checked): Negative,
            /// Any non-empty key is answered with 200: only its presence is checked.
            KeyPresenceOnly(key_presence_only): Negative,
            /// Only `Authorization: Bearer` is read (the auth scheme changed under the clients).
            BearerOnly(bearer_only): Negative,
            /// A missing or wrong key is answered 403 instead of 401.
            Forbidden403(forbidden_403): Negative,
            /// A `limit` above the maximum is clamped and answered with 200 (wild).
            LimitAboveMaxClamped(limit_above_max_clamped): Negative,
            /// A `limit` below 1 is answered with a default page (wild).
            NonPositiveLimitAccepted(non_positive_limit_accepted): Negative,
            /// A `limit` that is not an integer is answered with a default page.
            NonIntegerLimitAccepted(non_integer_limit_accepted): Negative,
            /// An invalid `limit` crashes the server with a 500 whose debug page echoes the request
            /// headers, credentials included (as careless error pages do).
            InvalidLimitCrashes(invalid_limit_crashes): Negative,
            /// An unknown `after` crashes the server with a 500.
            UnknownAfterCrashes(unknown_after_crashes): Negative,
            /// Error bodies are `{"error": "<message>"}`: a string where an object belongs.
            ErrorAsString(error_as_string): Negative,
            /// Error bodies are flat: `{"message", "type", "code"}` with no `error` object.
            ErrorFlat(error_flat): Negative,
            /// A request without a required header (`anthropic-version`) is answered 200 (a
            /// compatible server that never reads it). Suites with `headers`.
            RequiredHeaderNotChecked(required_header_not_checked): Negative,

            // Transport.
            /// Page bodies are sent as `text/plain`.
            TextContentType(text_content_type): Transport,
            /// Page responses carry no `Content-Type` at all.
            NoContentType(no_content_type): Transport,
            /// Page bodies are cut off half way.
            TruncatedBody(truncated_body): Transport,
            /// Page bodies are empty, with status 200.
            EmptyBody(empty_body): Transport,
            /// A gateway's HTML page is served with status 200 instead of the list.
            HtmlPage(html_page): Transport,
            /// Page bodies carry trailing bytes after the JSON (a cache's comment appended).
            TrailingGarbage(trailing_garbage): Transport,
            /// Every request is answered 503, retries or not.
            Persistent503(persistent_503): Transport,
            /// Every request hangs for a minute before it is answered.
            Hang(hang): Transport,

            // Plausibility.
            /// Every timestamp is in milliseconds: still integers, still in order.
            TimesInMilliseconds(times_in_milliseconds): Plausibility,
            /// `request_counts.completed + failed` exceeds `total`.
            CountsExceedTotal(counts_exceed_total): Plausibility,
            /// `completed_at` comes an hour before `created_at`.
            CompletedBeforeCreated(completed_before_created): Plausibility,
            /// `expires_at` is `0` where a time is meant.
            ExpiresAtZero(expires_at_zero): Plausibility,

            // Backward pages, the order parameter and filters.
            /// Backward pages come nearest the cursor first although the contract says list order (a
            /// server that runs the backward query as the forward one with the comparison flipped, and
            /// forgets to reverse the rows). Suites with `[backward]`.
            BackwardPageReversed(backward_page_reversed): Paging,
            /// A backward page includes the cursor's own item (`<=` where `<` was meant). Suites with
            /// `[backward]`.
            BackwardInclusive(backward_inclusive): Paging,
            /// `has_more` is false on the first page back from the end of the listing (a cursor in the
            /// last `limit` items), although more items lie further back (a server that computes
            /// `has_more` for the forward direction only). Suites with `[backward]`.
            BackwardHasMoreFalseEarly(backward_has_more_false_early): Paging,
            /// The order parameter is ignored: every request gets the default direction (a proxy that
            /// drops it, or a server that never implemented it). Suites with `[order_param]`.
            OrderIgnored(order_ignored): Paging,
            /// Filter parameters are ignored: every listing is unfiltered (a proxy that does not
            /// forward them). Suites with `[[filters]]`.
            FilterIgnored(filter_ignored): Paging,
            /// One item that does not match leaks into a filtered listing, right after its ninth
            /// matching item (past the first page at limit 7): a filter applied by a query whose `OR`
            /// binds the wrong way for one kind of row. Suites with `[[filters]]`.
            FilterLeaksOne(filter_leaks_one): Paging,
            /// The ninth matching item of a filtered listing is left out (a filter applied after
            /// paging, with an off-by-one). Suites with `[[filters]]`.
            FilterDropsOne(filter_drops_one): Paging,
            /// The filter is applied after paging: each page is the unfiltered listing's, less
            /// what does not match, so pages run short or empty with `has_more: true` (wild: a
            /// store that pages in SQL and filters in code). Suites with `[[filters]]`.
            FilterAfterPaging(filter_after_paging): Paging,
        }
    };
}

/// Generates [`Fault`] and its registry functions from the list of [`for_each_fault!`].
macro_rules! define_faults {
    ($( $(#[$doc:meta])* $variant:ident($snake:ident): $family:ident, )*) => {
        /// A way to break the contract, for proving that the harness notices. The doc of each
        /// says how real servers come to do it; "(wild)" marks drift the contract lists as seen
        /// in public. Listed once, in [`for_each_fault!`](crate::for_each_fault).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Fault {
            $( $(#[$doc])* $variant, )*
        }

        /// How many faults the catalogue has.
        const COUNT: usize = [$(stringify!($variant)),*].len();

        impl Fault {
            /// The whole catalogue, in the order of its families (derived from the list).
            pub const ALL: [Fault; COUNT] = [$(Fault::$variant),*];

            /// The fault's name in snake case (`created_at_as_string`), as the per-fault tests
            /// are named.
            pub fn name(self) -> &'static str {
                match self {
                    $(Fault::$variant => stringify!($snake),)*
                }
            }

            pub fn family(self) -> Family {
                match self {
                    $(Fault::$variant => Family::$family,)*
                }
            }
        }
    };
}

crate::for_each_fault!(define_faults);

/// How `DefaultLimitWrong` pages when no limit is sent.
pub(super) const WRONG_DEFAULT_LIMIT: usize = 50;

impl Fault {
    /// Whether the fault can show on a suite with `contract`, served from the dataset its
    /// `[mock]` names; every fault the catalogue runs against a suite must apply to it.
    ///
    /// Batch-only (they name List Batches fields, so they apply only where the List Batches
    /// generator serves, i.e. no `[mock] examples`): `StatusRenamed`, `ErrorsAsString`,
    /// `InputFileIdNull`, `RequestCountsAsStrings`, `MetadataValueNumber`,
    /// `DeepItemUnknownStatus`, `ItemObjectRenamed`, `CountsExceedTotal`,
    /// `CompletedBeforeCreated`, `ExpiresAtZero`; `TimesInMilliseconds` also applies to a
    /// suite whose order key is Unix seconds and declared `[plausible] unix_seconds`.
    ///
    /// Every other fault works by the contract's names (id field, order key, envelope pointers,
    /// parameters) and applies wherever the contract has the feature it breaks: an envelope
    /// field (`first_id`, `last_id`, `object`), `[backward]`, `[order_param]`, `[[filters]]`,
    /// a token cursor (and `EmptyPageStaleIds` only without one), required `headers`, an RFC 3339 or integer order key, `x-api-key` auth
    /// (for `BearerOnly`), a minimum limit of 1 or more, a default limit other than 50, and a
    /// maximum limit below the default listing of 257 items (`MaxLimitSkipsOne`).
    pub fn applies_to(self, contract: &Contract) -> bool {
        use Fault::*;
        let batches = contract.mock.examples.is_none();
        let envelope = &contract.envelope;
        match self {
            StatusRenamed
            | ErrorsAsString
            | InputFileIdNull
            | RequestCountsAsStrings
            | MetadataValueNumber
            | DeepItemUnknownStatus
            | ItemObjectRenamed
            | CountsExceedTotal
            | CompletedBeforeCreated
            | ExpiresAtZero => batches,
            TimesInMilliseconds => {
                batches
                    || (contract.order_key_kind == KeyKind::UnixSeconds
                        && contract
                            .plausible
                            .unix_seconds
                            .contains(&format!("/{}", contract.order_key)))
            }
            CreatedAtAsString => contract.order_key_kind != KeyKind::Rfc3339,
            TimesAsIntegers => contract.order_key_kind == KeyKind::Rfc3339,
            MissingFirstLastId => envelope.first_id().is_some() || envelope.last_id().is_some(),
            // A token walk never asks past its last page: no empty page follows a cursor.
            EmptyPageStaleIds => {
                (envelope.first_id().is_some() || envelope.last_id().is_some())
                    && contract.cursor_source != CursorSource::Token
            }
            WrongFirstId | FirstIdNull => envelope.first_id().is_some(),
            WrongLastId => envelope.last_id().is_some(),
            EnvelopeObjectRenamed => !contract.mock.envelope_object.is_empty(),
            // A default larger than 50 makes the short page legal ("may return fewer").
            DefaultLimitWrong => contract.default_limit < WRONG_DEFAULT_LIMIT as u64,
            MaxLimitSkipsOne => contract.max_limit < super::DEFAULT_ITEMS as u64,
            BearerOnly => contract.auth == AuthStyle::XApiKey,
            NonPositiveLimitAccepted => contract.min_limit >= 1,
            CursorTokenReused => contract.cursor_source == CursorSource::Token,
            RequiredHeaderNotChecked => !contract.headers.is_empty(),
            BackwardPageReversed | BackwardInclusive | BackwardHasMoreFalseEarly => {
                contract.backward.is_some()
            }
            OrderIgnored => contract.order_param.is_some(),
            FilterIgnored | FilterLeaksOne | FilterDropsOne | FilterAfterPaging => {
                !contract.filters.is_empty()
            }
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::mock::testing::list_batches;

    /// Collects the list of `for_each_fault!` as `(variant, snake name, family)` strings.
    macro_rules! listed {
        ($( $(#[$doc:meta])* $variant:ident($snake:ident): $family:ident, )*) => {
            [$((stringify!($variant), stringify!($snake), stringify!($family))),*]
        };
    }

    /// `CreatedAtAsString` → `created_at_as_string`; digits start a word (`Forbidden403` →
    /// `forbidden_403`).
    fn snake(name: &str) -> String {
        let mut out = String::new();
        let mut previous: Option<char> = None;
        for c in name.chars() {
            let starts_word = c.is_ascii_uppercase()
                || (c.is_ascii_digit() && previous.is_some_and(|p| !p.is_ascii_digit()));
            if starts_word && previous.is_some() {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            previous = Some(c);
        }
        out
    }

    #[test]
    fn the_registry_is_the_list_in_order_with_snake_names_and_families() {
        let list = crate::for_each_fault!(listed);
        assert_eq!(list.len(), Fault::ALL.len());
        for ((variant, name, family), fault) in list.iter().zip(Fault::ALL) {
            assert_eq!(*variant, format!("{fault:?}"));
            assert_eq!(*name, fault.name());
            assert_eq!(*name, snake(variant), "{variant}: its test name");
            assert_eq!(*family, format!("{:?}", fault.family()));
        }
        let names: BTreeSet<&str> = Fault::ALL.iter().map(|f| f.name()).collect();
        assert_eq!(names.len(), Fault::ALL.len(), "names are unique");
        // The families come in blocks, in the order of `Family::ALL`.
        let mut order: Vec<Family> = Fault::ALL.iter().map(|f| f.family()).collect();
        order.dedup();
        assert_eq!(order, Family::ALL);
    }

    #[test]
    fn families_are_derived_with_their_names() {
        assert_eq!(Family::ALL.len(), 7);
        assert_eq!(Family::ALL[0], Family::Schema);
        assert_eq!(Family::Negative.name(), "negative and auth");
        assert_eq!(Family::Paging.name(), "backward, order and filters");
    }

    #[test]
    fn faults_apply_where_the_contract_has_what_they_break() {
        let contract = list_batches();
        for fault in [
            Fault::StatusRenamed,
            Fault::CreatedAtAsString,
            Fault::MissingFirstLastId,
            Fault::DefaultLimitWrong,
        ] {
            assert!(fault.applies_to(&contract), "{fault:?}");
        }
        for fault in [
            Fault::TimesAsIntegers,
            Fault::BackwardPageReversed,
            Fault::OrderIgnored,
            Fault::FilterIgnored,
            Fault::CursorTokenReused,
            Fault::RequiredHeaderNotChecked,
        ] {
            assert!(!fault.applies_to(&contract), "{fault:?}");
        }
        let mut token = contract.clone();
        token.cursor_source = CursorSource::Token;
        assert!(Fault::CursorTokenReused.applies_to(&token));
        assert!(!Fault::EmptyPageStaleIds.applies_to(&token));
    }
}
