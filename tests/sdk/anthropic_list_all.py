"""Lists every message batch through the official Anthropic Python SDK's auto-pagination.

usage: anthropic_list_all.py BASE_URL API_KEY LIMIT

Prints one `id created_at` line per batch (created_at as Unix seconds), in the order the SDK
yields them. The SDK (2.x) sends its api_key as `Authorization: Bearer`. Run by
tests/harness/sdk.rs against `list-contract serve --suite anthropic_message_batches`.
"""

import sys

from anthropic import Anthropic


def main() -> None:
    base_url, api_key, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
    # The Anthropic SDK's base URL has no /v1: it adds /v1/messages/batches itself.
    client = Anthropic(api_key=api_key, base_url=base_url, max_retries=0, timeout=30)
    for batch in client.messages.batches.list(limit=limit):
        print(batch.id, int(batch.created_at.timestamp()))


if __name__ == "__main__":
    main()
