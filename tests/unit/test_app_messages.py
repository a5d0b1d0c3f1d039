"""The app tier's pure parts (fixtures/images/app/drills_app): wire formats, emails, the SMTP
sink's dialogue. Stdlib only, so they run on the host without the image."""

import json
import smtplib
import socket
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fixtures" / "images" / "app"))

from drills_app.messages import (
    RUN_ID_HEADER,
    Notification,
    RunResult,
    ScheduledRun,
    email_for,
    summarize_email,
)
from drills_app.smtp_sink import Mailbox, SmtpSession, smtp_server


def test_a_scheduled_run_round_trips_and_bad_ones_are_rejected():
    run = ScheduledRun("scheduler-ab-1", "http://172.30.0.71:8080/", 1700000000.5)
    assert ScheduledRun.from_json(run.to_json()) == run
    for bad in (b"not json", b"[]", b'{"run_id": "", "url": "u", "scheduled_at": 1}',
                b'{"run_id": "r", "url": "u", "scheduled_at": "soon"}', b'{"run_id": "r", "url": "u"}',
                b'{"run_id": "r", "url": "u", "scheduled_at": true}', b"\xff\xfe"):
        with pytest.raises(ValueError):
            ScheduledRun.from_json(bad)


def test_a_notification_carries_the_result_and_round_trips():
    result = RunResult("r-7", "http://t/", 1.0, 2.0, "worker2", False, 503, 12.5, "HTTP 503")
    note = Notification.from_result(result)
    assert note == Notification("r-7", False, "worker2", 2.0, 503)
    assert Notification.from_json(note.to_json()) == note
    assert json.loads(note.to_json())["run_id"] == "r-7"
    with pytest.raises(ValueError, match="ok"):
        Notification.from_json(b'{"run_id": "r", "ok": "yes", "worker": "w", "executed_at": 1}')
    with pytest.raises(ValueError, match="status"):
        Notification.from_json(b'{"run_id": "r", "ok": true, "worker": "w", "executed_at": 1, "status": "200"}')


def test_the_email_names_the_run_and_the_sink_reads_it_back():
    msg = email_for(Notification("r-9", True, "worker1", 0.0, 200), "from@x.invalid", "to@x.invalid")
    assert msg[RUN_ID_HEADER] == "r-9" and "r-9" in msg["Subject"] and "passed" in msg["Subject"]
    summary = summarize_email(msg.as_bytes(), sender="from@x.invalid", recipients=["to@x.invalid"], received_at=5.0)
    assert summary["run_id"] == "r-9" and summary["subject"] == msg["Subject"] and summary["to"] == ["to@x.invalid"]
    assert "FAILED" in email_for(Notification("r-1", False, "w", 0.0), "a@b", "c@d")["Subject"]


def dialogue(session, lines):
    return [session.feed(line).decode() for line in lines]


def test_smtp_session_delivers_after_data_with_dot_unstuffing():
    got = []
    s = SmtpSession(lambda sender, rcpts, raw: got.append((sender, rcpts, raw)), hostname="sink")
    assert s.greeting().startswith(b"220 ")
    replies = dialogue(s, [b"EHLO client", b"MAIL FROM:<a@b> SIZE=10", b"RCPT TO:<c@d>", b"RCPT TO:<e@f>", b"DATA",
                           b"Subject: hi", b"", b"..leading dot", b".", b"QUIT"])
    assert [r[:3] for r in replies if r] == ["250", "250", "250", "250", "354", "250", "221"]
    assert got == [("a@b", ["c@d", "e@f"], b"Subject: hi\r\n\r\n.leading dot\r\n")]
    assert s.closed


def test_smtp_session_refuses_out_of_order_commands():
    s = SmtpSession(lambda *a: pytest.fail("nothing should be delivered"))
    assert dialogue(s, [b"RCPT TO:<c@d>", b"DATA", b"MAIL FROM:<a@b>", b"DATA", b"VRFY x", b"RSET", b"NOOP"]) == [
        "503 MAIL first\r\n", "503 RCPT first\r\n", "250 OK\r\n", "503 RCPT first\r\n",
        "502 Command not implemented\r\n", "250 OK\r\n", "250 OK\r\n"]


def test_smtplib_delivers_to_the_sink_over_a_real_socket():
    """The mailer's own client (smtplib) against the sink's server, on 127.0.0.1."""
    mailbox = Mailbox()
    server = smtp_server(mailbox, port=0)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        for i in range(3):
            note = Notification(f"r-{i}", True, "worker1", 0.0, 200)
            with smtplib.SMTP("127.0.0.1", port, timeout=3, local_hostname=socket.gethostname()) as smtp:
                smtp.send_message(email_for(note, "m@x.invalid", "ops@x.invalid"))
    finally:
        server.shutdown()
        server.server_close()
    assert mailbox.count == 3
    assert [m["run_id"] for m in mailbox.messages] == ["r-0", "r-1", "r-2"]
