#!/usr/bin/python3
"""Test peers of the monitoring scenario, run inside the test host as transient systemd units.

    mvp-mon-sink.py webhook PORT LOG    POSTs -> one JSON line each: {"received": t, "body": {...}}
    mvp-mon-sink.py smtp PORT LOG       a minimal SMTP server -> one JSON line per message
    mvp-mon-sink.py tcp PORT LOG        a line-based TCP sink (rsyslog forwarding) -> raw lines
    mvp-mon-sink.py telegram PORT LOG   a Telegram Bot API stand-in: POST /bot<token>/sendMessage ->
                                        one JSON line {"received", "path", "body"}, answered as the API does

Loopback unless a fifth argument names the address to listen on (a peer host on a test network:
the staging scenario's mailbox). Standard library only (aiosmtpd is not in it).
"""

import json
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

LOCK = threading.Lock()
BIND = sys.argv[4] if len(sys.argv) > 4 else "127.0.0.1"


def append(log: str, line: str) -> None:
    with LOCK, open(log, "a", encoding="utf-8") as f:
        f.write(line + "\n")


def webhook(port: int, log: str) -> None:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                payload = json.loads(body)
            except ValueError:
                payload = {"raw": body.decode(errors="replace")}
            append(log, json.dumps({"received": time.time(), "path": self.path, "body": payload}))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, fmt: str, *args) -> None:
            pass

    ThreadingHTTPServer((BIND, port), Handler).serve_forever()


def telegram(port: int, log: str) -> None:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode(errors="replace")
            if "json" in (self.headers.get("Content-Type") or ""):
                params = json.loads(raw or "{}")
            else:
                params = {k: v[0] for k, v in parse_qs(raw).items()}
            append(log, json.dumps({"received": time.time(), "path": self.path, "body": params}))
            chat = {"id": int(params.get("chat_id", 0)), "type": "supergroup"}
            reply = {"ok": True, "result": {"message_id": 1, "date": int(time.time()), "chat": chat, "text": "ok"}}
            body = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt: str, *args) -> None:
            pass

    ThreadingHTTPServer((BIND, port), Handler).serve_forever()


def smtp(port: int, log: str) -> None:
    class Handler(socketserver.StreamRequestHandler):
        def reply(self, text: str) -> None:
            self.wfile.write((text + "\r\n").encode())

        def handle(self) -> None:
            self.reply("220 mvp-mon-sink ESMTP")
            sender, rcpts = "", []
            while True:
                raw = self.rfile.readline()
                if not raw:
                    return
                cmd = raw.decode(errors="replace").strip()
                verb = cmd.split(" ", 1)[0].upper()
                if verb in ("EHLO", "HELO"):
                    self.reply("250-mvp-mon-sink" if verb == "EHLO" else "250 mvp-mon-sink")
                    if verb == "EHLO":
                        self.reply("250 8BITMIME")
                elif verb == "MAIL":
                    sender, rcpts = cmd.split(":", 1)[1].strip(), []
                    self.reply("250 OK")
                elif verb == "RCPT":
                    rcpts.append(cmd.split(":", 1)[1].strip())
                    self.reply("250 OK")
                elif verb == "DATA":
                    self.reply("354 End data with <CR><LF>.<CR><LF>")
                    lines = []
                    while True:
                        line = self.rfile.readline()
                        if not line or line in (b".\r\n", b".\n"):
                            break
                        lines.append(line.decode(errors="replace"))
                    message = {"received": time.time(), "from": sender, "to": rcpts, "data": "".join(lines)}
                    append(log, json.dumps(message))
                    self.reply("250 OK queued")
                elif verb == "QUIT":
                    self.reply("221 Bye")
                    return
                elif verb in ("RSET", "NOOP"):
                    self.reply("250 OK")
                else:
                    self.reply("502 Command not implemented")

    socketserver.ThreadingTCPServer.allow_reuse_address = True
    socketserver.ThreadingTCPServer((BIND, port), Handler).serve_forever()


def tcp(port: int, log: str) -> None:
    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            for line in self.rfile:
                append(log, line.decode(errors="replace").rstrip("\r\n"))

    socketserver.ThreadingTCPServer.allow_reuse_address = True
    socketserver.ThreadingTCPServer((BIND, port), Handler).serve_forever()


if __name__ == "__main__":
    kind, port, logfile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    {"webhook": webhook, "smtp": smtp, "tcp": tcp, "telegram": telegram}[kind](port, logfile)
