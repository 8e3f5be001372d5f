/* WeChat Pay simulator: a development stand-in for the JS-SDK's wx.miniProgram in an ordinary
 * browser, for a web page that would run inside a mini-program <web-view>. Load it with
 * <script src="<simulator>/sim/miniprogram.js"></script> before the checkout starts.
 * navigateTo({ url: "__PAY_PAGE__?order_id=…" }) opens the simulator's run of the kit's payment
 * page (miniprogram/pages/pay/index) over this page, as WeChat pushes a mini-program page over
 * the web-view; the page's wx.navigateBack closes it and this page, still polling its backend,
 * carries on. Other page paths fail as WeChat's do ("page … is not found"). */
(function () {
  "use strict";
  if (window.wx && window.wx.miniProgram) return;
  var script = document.currentScript;
  var base = script && script.src ? new URL(script.src).origin : "";
  var pages = ["__PAY_PAGE__"];
  var frame = null;

  function answer(options, ok, res) {
    var o = options || {};
    var f = ok ? o.success : o.fail;
    if (typeof f === "function") f(res);
    if (typeof o.complete === "function") o.complete(res);
  }

  function close() {
    if (frame) frame.remove();
    frame = null;
  }

  function navigateTo(options) {
    var url = String((options && options.url) || "");
    var path = url.split("?")[0];
    setTimeout(function () {
      if (pages.indexOf(path) < 0) {
        return answer(options, false, { errMsg: "navigateTo:fail page \"" + path.replace(/^\//, "") + "\" is not found" });
      }
      close();
      frame = document.createElement("iframe");
      frame.src = base + "/sim/miniprogram" + url;
      frame.title = "Mini-program";
      frame.setAttribute("data-wxpay-sim", "miniprogram");
      frame.style.cssText = "position:fixed;top:0;left:0;width:100%;height:100%;border:0;z-index:2147483647;background:#ededed";
      document.body.appendChild(frame);
      answer(options, true, { errMsg: "navigateTo:ok" });
    }, 0);
  }

  window.addEventListener("message", function (e) {
    if (frame && e.source === frame.contentWindow && e.data && e.data.wxpaySim === "navigateBack") close();
  });

  window.wx = window.wx || {};
  window.wx.miniProgram = {
    navigateTo: navigateTo,
    redirectTo: navigateTo,
    navigateBack: function (o) { close(); answer(o, true, { errMsg: "navigateBack:ok" }); },
    postMessage: function () {},
    getEnv: function (callback) { callback({ miniprogram: true }); }
  };
  // What WeChat sets in a mini-program web-view (the checkout's detection reads it).
  window.__wxjs_environment = "miniprogram";
})();
