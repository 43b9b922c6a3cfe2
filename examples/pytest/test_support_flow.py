"""What a bot or integration would test against Chatwoot, run against wootlite."""


def new_conversation(chatwoot, source_id):
    status, _ = chatwoot.call("POST", chatwoot.account("/contacts"),
                              {"name": "Ada", "inbox_id": 1, "source_id": source_id})
    assert status == 200
    status, conversation = chatwoot.call("POST", chatwoot.account("/conversations"),
                                         {"source_id": source_id})
    assert status == 200
    return conversation["id"]


def test_a_reply_is_stored_and_listed(chatwoot):
    # The demo fixture is loaded: Chatwoot's documented examples work against it.
    conversation = new_conversation(chatwoot, "ada-1")
    path = chatwoot.account(f"/conversations/{conversation}/messages")
    status, message = chatwoot.call("POST", path, {"content": "We are on it"})
    assert status == 200
    assert message["message_type"] == 1
    status, listed = chatwoot.call("GET", path)
    assert [m["content"] for m in listed["payload"]] == ["We are on it"]


def test_every_test_starts_from_the_same_state(chatwoot):
    # Only the demo's conversations: Ada's, from the test before, is gone.
    status, listed = chatwoot.call("GET", chatwoot.account("/conversations?status=all"))
    assert status == 200
    names = [c["meta"]["sender"]["name"] for c in listed["data"]["payload"]]
    assert names and "Ada" not in names


def test_a_snooze_ends_when_the_clock_is_moved(chatwoot):
    conversation = new_conversation(chatwoot, "ada-3")
    status, clock = chatwoot.call("POST", "/__wootlite/clock", {"frozen": True})
    assert status == 200
    toggle = chatwoot.account(f"/conversations/{conversation}/toggle_status")
    chatwoot.call("POST", toggle, {"status": "snoozed", "snoozed_until": clock["now"] + 3600})
    chatwoot.call("POST", "/__wootlite/clock", {"advance": 3601})
    for _ in range(200):
        _, shown = chatwoot.call("GET", chatwoot.account(f"/conversations/{conversation}"))
        if shown["status"] == "open":
            break
        __import__("time").sleep(0.05)
    assert shown["status"] == "open"
