/* WeChat Pay simulator: a development stand-in for WeChat's WeixinJSBridge in an ordinary
 * browser. Load it with <script src="<simulator>/sim/bridge.js"></script>. It implements
 * invoke('getBrandWCPayRequest', params, callback): the simulator checks paySign, the buyer picks
 * pay / cancel / fail in a small sheet, and the callback gets err_msg exactly as in WeChat
 * ("get_brand_wcpay_request:ok" | ":cancel" | ":fail"). Set window.__wxpaySimAction = "pay" |
 * "cancel" | "fail" to skip the sheet (automated tests). ":ok" is not proof of payment: the page
 * must still ask its backend. */
(function () {
  "use strict";
  if (window.WeixinJSBridge) return;
  var script = document.currentScript;
  var base = script && script.src ? new URL(script.src).origin : "";

  function choose() {
    if (window.__wxpaySimAction) return Promise.resolve(window.__wxpaySimAction);
    return new Promise(function (resolve) {
      var sheet = document.createElement("div");
      sheet.setAttribute("role", "dialog");
      sheet.setAttribute("aria-label", "WeChat Pay simulator");
      sheet.style.cssText = "position:fixed;left:0;right:0;bottom:0;z-index:2147483647;background:#fff;" +
        "box-shadow:0 -2px 12px rgba(0,0,0,.2);padding:16px;font:16px -apple-system,sans-serif";
      var title = document.createElement("div");
      title.textContent = "微信支付（模拟器）WeChat Pay simulator";
      title.style.cssText = "margin-bottom:12px;color:#333";
      sheet.appendChild(title);
      [["pay", "确认支付 Pay", "#07c160", "#fff"], ["cancel", "取消 Cancel", "#f2f2f2", "#333"],
       ["fail", "模拟失败 Fail", "#fff", "#fa5151"]].forEach(function (b) {
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = b[1];
        button.dataset.action = b[0];
        button.style.cssText = "display:block;width:100%;margin:6px 0;padding:12px;border:1px solid #ddd;" +
          "border-radius:6px;font-size:16px;background:" + b[2] + ";color:" + b[3];
        button.addEventListener("click", function () {
          sheet.remove();
          resolve(b[0]);
        });
        sheet.appendChild(button);
      });
      document.body.appendChild(sheet);
    });
  }

  function invoke(name, params, callback) {
    var done = typeof callback === "function" ? callback : function () {};
    if (name !== "getBrandWCPayRequest") {
      setTimeout(function () { done({ err_msg: name + ":fail_nosupport" }); }, 0);
      return;
    }
    choose().then(function (action) {
      // WeChat's client knows the paying page; its directory must be registered (JSAPI).
      var body = Object.assign({}, params || {}, { action: action, pageUrl: location.href });
      return fetch(base + "/sim/api/bridge", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body)
      }).then(function (r) { return r.json(); });
    }).then(done, function () {
      done({ err_msg: "get_brand_wcpay_request:fail", err_desc: "simulator unreachable" });
    });
  }

  window.WeixinJSBridge = {
    invoke: invoke,
    on: function () {},
    call: function () {}
  };
  function ready() { document.dispatchEvent(new Event("WeixinJSBridgeReady")); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else setTimeout(ready, 0);
})();
