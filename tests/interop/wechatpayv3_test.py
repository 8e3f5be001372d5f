"""Interop: the PyPI SDK `wechatpayv3` (minibear2021, one of the most used WeChat Pay v3 SDKs)
pointed at `wxpay demo`, in both platform-key modes.

The SDK is strict where it matters: it refuses any 2xx answer whose `Wechatpay-Signature-Type`
is not WECHATPAY2-SHA256-RSA2048 or whose signature does not verify with the platform key it
holds, it keeps only certificates valid by their own dates, and it reads the body as text only
when `Content-Type` says JSON. Everything here goes through its public methods; the only private
touch is its gateway, which has no setting (it is hard-wired to api.mch.weixin.qq.com).

Run by `cargo xtask test interop` with PYTHONPATH holding the pinned SDK and WXPAY_BIN the
`wxpay` binary. Traffic stays on 127.0.0.1: a dead proxy catches anything that tries to leave.
"""

import http.server
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import tomllib
import unittest
import urllib.request

# Anything not for 127.0.0.1 goes to a port where nothing listens, and fails at once.
os.environ["HTTPS_PROXY"] = os.environ["HTTP_PROXY"] = "http://127.0.0.1:9"
os.environ["NO_PROXY"] = "127.0.0.1,localhost"

from cryptography import x509  # noqa: E402
from wechatpayv3 import WeChatPay, WeChatPayType  # noqa: E402

MCHID = "1900000109"
APPID = "wxd678efh567hg6787"
MP_APPID = "wx8888888888888888"


class Demo:
    """`wxpay demo` on a free port with its own data directory."""

    def __init__(self, mode, extra=()):
        self.dir = tempfile.mkdtemp(prefix=f"wxpay-interop-{mode}-")
        self.proc = subprocess.Popen(
            [os.environ["WXPAY_BIN"], "demo", "--port", "0", "--data-dir", self.dir,
             "--platform-key-mode", mode, "--retry-compression", "100", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.banner = {}
        first = self.proc.stdout.readline()
        if not first.startswith("wxpay demo: "):
            self.stop()
            raise RuntimeError(f"wxpay demo did not start: {first!r}")
        self.url = first.split(": ", 1)[1].strip().rstrip("/")
        for _ in range(6):
            line = self.proc.stdout.readline().strip()
            if line.startswith("platform key"):
                self.platform_key_id = line.split()[2]
        keys = os.path.join(self.dir, "keys")
        self.keys = keys
        with open(os.path.join(keys, "merchant_key.pem")) as f:
            self.merchant_key = f.read()
        with open(os.path.join(keys, "merchant_cert.pem"), "rb") as f:
            cert = x509.load_pem_x509_certificate(f.read())
        # Upper-case hex as openssl and the merchant platform show it (whole bytes).
        digits = format(cert.serial_number, "X")
        self.merchant_serial = digits.zfill(len(digits) + len(digits) % 2)
        with open(os.path.join(self.dir, "demo-secrets.toml"), "rb") as f:
            self.secrets = tomllib.load(f)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.proc.stdout.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def post(self, path, body):
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def get(self, path):
        with urllib.request.urlopen(self.url + path, timeout=10) as r:
            return json.loads(r.read())

    def openid(self, user):
        """An openid under the mini-program appid, the way a mini-program gets one."""
        code = self.post("/sim/api/login", {"appid": MP_APPID, "user": user})["code"]
        s = self.get(f"/sns/jscode2session?appid={MP_APPID}&secret={self.secrets['app_secret']}"
                     f"&js_code={code}&grant_type=authorization_code")
        return s["openid"]


class NotifyReceiver:
    """A merchant's notify_url: keeps what arrives (headers as the web framework sees them)."""

    def __init__(self):
        received = self.received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append((self.headers, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/notify"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, n, secs=15):
        deadline = time.time() + secs
        while len(self.received) < n and time.time() < deadline:
            time.sleep(0.05)
        return self.received

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def sdk(demo, notify_url, wechatpay_type=WeChatPayType.NATIVE, appid=APPID, cert_dir=None):
    public = {}
    if demo.platform_key_id.startswith("PUB_KEY_ID_"):
        with open(os.path.join(demo.keys, "platform_pub_key.pem")) as f:
            public = {"public_key": f.read(), "public_key_id": demo.platform_key_id}
    pay = WeChatPay(wechatpay_type=wechatpay_type, mchid=MCHID, private_key=demo.merchant_key,
                    cert_serial_no=demo.merchant_serial, appid=appid,
                    apiv3_key=demo.secrets["apiv3_key"], notify_url=notify_url,
                    cert_dir=cert_dir, timeout=(5, 15), **public)
    pay._core._gate_way = demo.url  # no setting for it; see the module doc
    return pay


class Flows:
    """The same checks in both modes."""

    mode = None
    demo_flags = ()

    @classmethod
    def setUpClass(cls):
        cls.demo = Demo(cls.mode, cls.demo_flags)
        cls.notify = NotifyReceiver()
        cls.cert_dir = tempfile.mkdtemp(prefix="wxpay-interop-certs-")
        if cls.mode == "certificate":
            # The SDK reads platform certificates from cert_dir before it could be pointed at
            # the simulator; seed it as a merchant who downloaded one earlier would have it.
            shutil.copy(os.path.join(cls.demo.keys, "platform_cert.pem"),
                        os.path.join(cls.cert_dir, cls.demo.platform_key_id + ".pem"))
        cls.pay = sdk(cls.demo, cls.notify.url, cert_dir=cls.cert_dir)

    @classmethod
    def tearDownClass(cls):
        cls.notify.stop()
        cls.demo.stop()
        shutil.rmtree(cls.cert_dir, ignore_errors=True)

    def no(self, tag):
        return f"py{self.mode[:4]}{tag}{int(time.time() * 1000) % 10**9}"

    def test_native_order_query_close_verified_by_the_sdk(self):
        no = self.no("n")
        code, message = self.pay.pay(description="Oolong", out_trade_no=no,
                                     amount={"total": 1288}, attach="table 7")
        self.assertEqual(code, 200, message)
        self.assertTrue(json.loads(message)["code_url"].startswith("weixin://wxpay/bizpayurl?pr="))
        code, message = self.pay.query(out_trade_no=no)
        self.assertEqual(code, 200, message)
        q = json.loads(message)
        self.assertEqual((q["trade_state"], q["trade_state_desc"]), ("NOTPAY", "订单未支付"))
        self.assertNotIn("attach", q)
        code, message = self.pay.close(out_trade_no=no)
        self.assertEqual(code, 204, message)
        code, message = self.pay.query(out_trade_no=no)
        self.assertEqual(json.loads(message)["trade_state"], "CLOSED")

    def test_jsapi_and_h5_orders(self):
        mp = sdk(self.demo, self.notify.url, WeChatPayType.MINIPROG, MP_APPID, self.cert_dir)
        code, message = mp.pay(description="Jasmine", out_trade_no=self.no("j"),
                               amount={"total": 1}, payer={"openid": self.demo.openid("py")})
        self.assertEqual(code, 200, message)
        self.assertTrue(json.loads(message)["prepay_id"].startswith("wx"))
        h5 = sdk(self.demo, self.notify.url, WeChatPayType.H5, APPID, self.cert_dir)
        code, message = h5.pay(description="Pu'er", out_trade_no=self.no("h"), amount={"total": 1},
                               scene_info={"payer_client_ip": "127.0.0.1",
                                           "h5_info": {"type": "Wap"}})
        self.assertEqual(code, 200, message)
        self.assertIn("/sim/checkmweb?prepay_id=", json.loads(message)["h5_url"])

    def test_refused_order_is_a_signed_error(self):
        code, message = self.pay.pay(description="x", out_trade_no="short", amount={"total": 1})
        self.assertEqual(code, 400, message)
        self.assertEqual(json.loads(message)["code"], "PARAM_ERROR")

    def pay_and_receive(self, no, total, attach):
        """Orders, pays at the simulator; returns the notification (headers, body)."""
        code, message = self.pay.pay(description="Longjing", out_trade_no=no,
                                     amount={"total": total}, attach=attach)
        self.assertEqual(code, 200, message)
        before = len(self.notify.received)
        self.demo.post("/sim/api/pay", {"code_url": json.loads(message)["code_url"]})
        got = self.notify.wait(before + 1)
        self.assertGreater(len(got), before, "no notification arrived")
        return got[-1]

    def test_paid_order_notification_checked_and_decrypted_by_the_sdk(self):
        no = self.no("p")
        headers, body = self.pay_and_receive(no, 2300, "gift")
        if self.mode == "public-key":
            self.assertEqual(headers["Wechatpay-Serial"], self.demo.platform_key_id)
        result = self.pay.callback(headers, body)
        self.assertIsNotNone(result, "the SDK refused the notification's signature")
        r = result["resource"]
        self.assertEqual((r["out_trade_no"], r["trade_state"], r["amount"]["total"], r["attach"]),
                         (no, "SUCCESS", 2300, "gift"))
        # A notification changed on the way is refused.
        self.assertIsNone(self.pay.callback(headers, body.replace(b'"id"', b'"Id"')))
        code, message = self.pay.query(out_trade_no=no)
        q = json.loads(message)
        self.assertEqual((q["trade_state"], q["transaction_id"]), ("SUCCESS", r["transaction_id"]))


class PublicKeyMode(Flows, unittest.TestCase):
    mode = "public-key"


class CertificateMode(Flows, unittest.TestCase):
    mode = "certificate"
    # WeChat rotates platform certificates: here after the first paid order.
    demo_flags = ("--rotate-after", "1")

    def test_rotation_is_followed_by_the_sdk(self):
        # The SDK meets an unknown serial, downloads /v3/certificates itself, and verifies.
        serials = set()
        for i in range(3):
            headers, body = self.pay_and_receive(self.no(f"r{i}"), 10 + i, "")
            serials.add(headers["Wechatpay-Serial"])
            result = self.pay.callback(headers, body)
            self.assertIsNotNone(result, f"notification {i} refused")
            code, message = self.pay.query(out_trade_no=result["resource"]["out_trade_no"])
            self.assertEqual(json.loads(message)["trade_state"], "SUCCESS")
        self.assertGreater(len(serials - {self.demo.platform_key_id}), 0, "no rotation seen")

    def test_certificate_download_through_the_sdk(self):
        core = self.pay._core
        # The SDK's own download: request, AES-GCM decrypt with the APIv3 key, keep what is
        # valid by the certificate's own dates.
        core._update_certificates()
        serials = [format(c.serial_number, "X") for c in core._certificates]
        self.assertEqual(serials, [self.demo.platform_key_id])
        # The download answer itself verifies (the SDK skips that during its download).
        code, message = core.request("/v3/certificates")
        self.assertEqual(code, 200)
        cert = json.loads(message)["data"][0]
        downloaded = core._certificates[0]
        self.assertEqual(cert["effective_time"][:10],
                         downloaded.not_valid_before_utc.strftime("%Y-%m-%d"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
