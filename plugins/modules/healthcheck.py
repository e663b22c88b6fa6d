#!/usr/bin/python
# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: healthcheck
short_description: Probe HTTP(S) and TCP endpoints concurrently and wait until they are healthy
version_added: 0.1.0
author:
  - mvp_platform infrastructure team (@mvp-platform)
description:
  - Runs a list of checks against HTTP(S) URLs and TCP ports, all at once in a thread pool, and
    reports for each one whether it passed, the HTTP status, the latency, the number of days left
    before the server certificate expires, and the reason it failed.
  - An HTTP check passes when the request completes, the status is one of O(checks[].status_code),
    the body matches O(checks[].body_regex), the JSON field O(checks[].json_path) exists (and equals
    O(checks[].json_equals) when set), the latency is within O(checks[].max_latency_ms) and the
    certificate is valid for at least O(checks[].min_cert_days) more days. A TCP check passes when a
    connection can be opened within O(checks[].timeout) (and O(checks[].max_latency_ms)).
  - With O(wait_timeout) greater than zero, rounds are repeated every O(interval) seconds until
    O(success_threshold) consecutive rounds had every check passing, or the time is up.
  - The module fails when the checks are not healthy; the message names each failing check and why,
    and the per-check results are returned with the failure.
  - The module only reads, so it never reports a change and runs unchanged in check mode.
  - Redirects are not followed and proxy environment variables are not used; the status of the
    endpoint itself is checked.
  - The certificate expiry is read from the certificate the server presents, also when
    O(checks[].validate_certs=false). The Python C(cryptography) library parses it when it is
    installed on the target; otherwise a built-in standard-library DER reader is used.
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - The module only reads; it probes the endpoints in check mode too.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in diff mode) when in diff mode.
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
options:
  checks:
    description:
      - The checks to run. Every check of a round runs concurrently.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - Name of the check, used in the results and the failure message. Must be unique.
        type: str
        required: true
      type:
        description:
          - V(http) sends a request to O(checks[].url); V(tcp) opens a connection to
            O(checks[].host) and O(checks[].port).
          - When not set, V(http) is used if O(checks[].url) is set, V(tcp) if O(checks[].host) or
            O(checks[].port) is set.
        type: str
        choices: [http, tcp]
      url:
        description:
          - The C(http://) or C(https://) URL to request. Required for V(http) checks. User and
            password in the URL are sent as HTTP basic authentication.
        type: str
      host:
        description:
          - Host name or IP address to connect to. Required for V(tcp) checks.
        type: str
      port:
        description:
          - TCP port to connect to. Required for V(tcp) checks.
        type: int
      method:
        description:
          - HTTP method.
        type: str
        default: GET
      headers:
        description:
          - Extra HTTP request headers.
        type: dict
      body:
        description:
          - Request body. A dictionary or list is sent as JSON with C(Content-Type application/json)
            unless O(checks[].headers) sets a content type.
        type: raw
      status_code:
        description:
          - Accepted HTTP status codes. A code (V(200)), a range (V(200-399)), a class (V(2xx)),
            a comma-separated string of those, or a list of them.
          - When not set, any V(200-299) status is accepted.
        type: raw
      body_regex:
        description:
          - Python regular expression that must be found (C(re.search)) in the response body.
        type: str
      json_path:
        description:
          - Dotted path of a field that must exist in the JSON response body, for example
            V(status) or V(checks.database.status) or V(items[0].name).
        type: str
      json_equals:
        description:
          - Value the O(checks[].json_path) field must equal. A string also matches the JSON text of
            a non-string value, so V("true") matches C(true) and V("3") matches C(3).
          - Requires O(checks[].json_path).
        type: raw
      max_latency_ms:
        description:
          - Maximum time in milliseconds from the start of the connection to the end of the response
            body (or to the connection being open, for V(tcp) checks).
        type: int
      validate_certs:
        description:
          - Verify the server certificate and host name of C(https://) URLs.
        type: bool
        default: true
      ca_path:
        description:
          - PEM file with the CA certificates to verify C(https://) servers against, instead of the
            system trust store. Only with O(checks[].validate_certs=true).
        type: path
      min_cert_days:
        description:
          - Minimum number of days the server certificate of an C(https://) URL must still be valid.
        type: int
      timeout:
        description:
          - Timeout in seconds for connecting and for each read.
        type: float
        default: 5
  wait_timeout:
    description:
      - Seconds to keep retrying until the checks are healthy. V(0) runs a single round.
      - The last round starts at the latest O(wait_timeout) seconds after the first one, so the
        module can run longer by at most one round (the largest O(checks[].timeout)).
    type: float
    default: 0
  interval:
    description:
      - Seconds to wait between the end of a round and the start of the next one.
    type: float
    default: 2
  success_threshold:
    description:
      - Number of consecutive rounds in which every check must pass before the endpoints count as
        healthy. Values above V(1) need O(wait_timeout) greater than zero.
    type: int
    default: 1
notes:
  - Only connections from the target host are made; run the module on the host (or delegate to the
    host) that should see the endpoints.
seealso:
  - module: ansible.builtin.uri
  - module: ansible.builtin.wait_for
  - module: community.crypto.get_certificate
"""

EXAMPLES = r"""
- name: Check the application and its database port once
  mvp_platform.infra.healthcheck:
    checks:
      - name: api
        url: http://127.0.0.1:3001/api/health
        json_path: status
        json_equals: ok
        max_latency_ms: 500
      - name: postgres
        type: tcp
        host: 127.0.0.1
        port: 5432

- name: Wait up to two minutes for the new colour, three healthy rounds in a row
  mvp_platform.infra.healthcheck:
    checks:
      - name: frontend
        url: "http://127.0.0.1:{{ app_frontend_port }}/"
        status_code: 200-399
        body_regex: "<html"
      - name: backend
        url: "http://127.0.0.1:{{ app_backend_port }}/api/health"
    wait_timeout: 120
    interval: 2
    success_threshold: 3
  register: release_health

- name: Public endpoint through nginx, with a certificate valid for at least two weeks
  mvp_platform.infra.healthcheck:
    checks:
      - name: public
        url: https://app.example.com/api/health
        status_code: [200, 204]
        min_cert_days: 14
        timeout: 10

- name: Internal endpoint with a private CA, checked without failing the play
  mvp_platform.infra.healthcheck:
    checks:
      - name: internal
        url: https://10.0.0.5:8443/health
        ca_path: /etc/ssl/private-ca.pem
        headers:
          Authorization: "Bearer {{ health_token }}"
  register: internal_health
  ignore_errors: true
"""

RETURN = r"""
healthy:
  description: Whether every check passed in O(success_threshold) consecutive rounds.
  returned: always
  type: bool
  sample: true
checks:
  description: Results of the last round, one per check, in the order of O(checks).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The name of the check.
      type: str
      returned: always
      sample: api
    type:
      description: V(http) or V(tcp).
      type: str
      returned: always
      sample: http
    target:
      description: What was probed, C(METHOD URL) or C(tcp HOST:PORT).
      type: str
      returned: always
      sample: GET http://127.0.0.1:3001/api/health
    ok:
      description: Whether the check passed.
      type: bool
      returned: always
      sample: true
    status:
      description: HTTP status code; V(null) for TCP checks and when no response was received.
      type: int
      returned: always
      sample: 200
    latency_ms:
      description: Milliseconds from the start of the connection to the end of the response (or the open connection).
      type: float
      returned: always
      sample: 12.4
    cert_days_left:
      description:
        - Days until the server certificate expires (negative when expired), for C(https://) URLs;
          V(null) otherwise or when the TLS handshake failed.
      type: float
      returned: always
      sample: 63.25
    error:
      description: Why the check failed, several reasons separated by C(; ); V(null) when it passed.
      type: str
      returned: always
      sample: status 503 not in 200-299; latency 812.3 ms exceeds max_latency_ms 500
rounds:
  description: Number of rounds run.
  returned: always
  type: int
  sample: 3
elapsed:
  description: Seconds from the start of the first round to the end of the last one.
  returned: always
  type: float
  sample: 4.127
"""

# Ansible modules keep their imports after the documentation strings.
from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.mvp_platform.infra.plugins.module_utils._healthcheck import (  # noqa: E402
    CheckConfigError,
    failure_message,
    run,
)


def argument_spec():
    return dict(
        checks=dict(
            type="list",
            elements="dict",
            required=True,
            options=dict(
                name=dict(type="str", required=True),
                type=dict(type="str", choices=["http", "tcp"]),
                url=dict(type="str"),
                host=dict(type="str"),
                port=dict(type="int"),
                method=dict(type="str", default="GET"),
                headers=dict(type="dict"),
                body=dict(type="raw"),
                status_code=dict(type="raw"),
                body_regex=dict(type="str"),
                json_path=dict(type="str"),
                json_equals=dict(type="raw"),
                max_latency_ms=dict(type="int"),
                validate_certs=dict(type="bool", default=True),
                ca_path=dict(type="path"),
                min_cert_days=dict(type="int"),
                timeout=dict(type="float", default=5),
            ),
        ),
        wait_timeout=dict(type="float", default=0),
        interval=dict(type="float", default=2),
        success_threshold=dict(type="int", default=1),
    )


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    try:
        outcome = run(
            params["checks"],
            wait_timeout=params["wait_timeout"],
            interval=params["interval"],
            success_threshold=params["success_threshold"],
        )
    except CheckConfigError as exc:
        module.fail_json(msg=f"Invalid healthcheck options: {exc}")

    result = dict(changed=False, **outcome.as_dict())
    if not outcome.healthy:
        module.fail_json(msg=failure_message(outcome), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
