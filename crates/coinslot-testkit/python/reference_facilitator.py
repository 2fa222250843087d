"""The Python reference facilitator (PyPI `x402` with its exact-EVM scheme, on web3.py) behind
a small HTTP service, for coinslot's interop tests: `POST /verify`, `POST /settle`,
`GET /supported`, as the reference HTTP facilitators answer them.

Environment: RPC_URL (the chain), PRIVATE_KEY (the settlement key), NETWORK (CAIP-2, default
eip155:84532). Listens on 127.0.0.1 on a free port and prints
"Facilitator listening on http://127.0.0.1:PORT" once it accepts connections.
"""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from x402 import x402FacilitatorSync
from x402.mechanisms.evm import FacilitatorWeb3Signer
from x402.mechanisms.evm.exact import register_exact_evm_facilitator
from x402.schemas.helpers import parse_payment_payload, parse_payment_requirements


def make_facilitator():
    signer = FacilitatorWeb3Signer(
        private_key=os.environ["PRIVATE_KEY"],
        rpc_url=os.environ["RPC_URL"],
        confirmation_timeout_seconds=30,
    )
    facilitator = x402FacilitatorSync()
    register_exact_evm_facilitator(
        facilitator, signer, networks=os.environ.get("NETWORK", "eip155:84532")
    )
    return facilitator


FACILITATOR = make_facilitator()


def dump(model):
    return model.model_dump(by_alias=True, exclude_none=True, mode="json")


class Handler(BaseHTTPRequestHandler):
    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/supported":
            self.answer(200, dump(FACILITATOR.get_supported()))
        else:
            self.answer(404, {"error": "no such route"})

    def do_POST(self):
        if self.path not in ("/verify", "/settle"):
            return self.answer(404, {"error": "no such route"})
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
            payload = parse_payment_payload(body["paymentPayload"])
            requirements = parse_payment_requirements(
                payload.x402_version, body["paymentRequirements"]
            )
        except Exception as error:  # a body that is not a request
            return self.answer(400, {"error": f"invalid request body: {error}"})
        if self.path == "/verify":
            result = FACILITATOR.verify(payload, requirements)
        else:
            result = FACILITATOR.settle(payload, requirements)
        self.answer(200, dump(result))

    def log_message(self, format, *args):
        sys.stderr.write(format % args + "\n")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"Facilitator listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
