"""Lists every batch through the official OpenAI Python SDK's auto-pagination.

usage: list_all.py BASE_URL API_KEY LIMIT

Prints one `id created_at` line per batch, in the order the SDK yields them, then
`pages N` (the pages the SDK fetched). Run by tests/sdk.rs against `list-contract serve`.
"""

import sys

from openai import OpenAI


def main() -> None:
    base_url, api_key, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
    client = OpenAI(api_key=api_key, base_url=f"{base_url}/v1", max_retries=0, timeout=30)
    pages = 0
    page = client.batches.list(limit=limit)
    # The SDK's own paging: iter_pages() follows `after = data[-1].id` until has_more is false.
    for current in page.iter_pages():
        pages += 1
        for batch in current.data:
            print(batch.id, batch.created_at)
    # And the auto-pagination users write, which must yield the same batches.
    auto = [batch.id for batch in client.batches.list(limit=limit)]
    print("auto", len(auto), " ".join(auto))
    print("pages", pages)


if __name__ == "__main__":
    main()
