/* WeChat Pay simulator: runs the mini-program kit's payment page in an ordinary browser. The
 * kit's modules (window.__wxpayKit, served just above) get a small CommonJS `require`, `Page()`
 * and a stand-in `wx`: login through /sim/api/login, request as fetch, requestPayment through
 * the simulator's pay sheet (/sim/bridge.js: the same paySign checks and pay / cancel / fail
 * choice as JSAPI; window.__wxpaySimAction skips the sheet), navigateBack back to the web page.
 * The page's data is drawn as its WXML draws it. */
(function () {
  "use strict";
  var root = document.getElementById("page");
  var appid = root.getAttribute("data-appid");
  var route = root.getAttribute("data-route");
  var kit = window.__wxpayKit;
  var loaded = {};

  function resolve(from, request) {
    var parts = from.split("/").slice(0, -1).concat(request.split("/"));
    var out = [];
    parts.forEach(function (p) {
      if (p === "..") out.pop();
      else if (p !== "." && p !== "") out.push(p);
    });
    var path = out.join("/");
    return /\.js$/.test(path) ? path : path + ".js";
  }

  function load(path) {
    if (loaded[path]) return loaded[path].exports;
    if (!kit[path]) throw new Error("the simulator has no module " + path);
    var module = (loaded[path] = { exports: {} });
    kit[path](module, module.exports, function (request) { return load(resolve(path, request)); });
    return module.exports;
  }

  function answer(options, ok, res) {
    var o = options || {};
    var f = ok ? o.success : o.fail;
    if (typeof f === "function") f(res);
    if (typeof o.complete === "function") o.complete(res);
  }

  function postJson(path, body) {
    return fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
      .then(function (r) { return r.json(); });
  }

  function request(o) {
    var controller = new AbortController();
    var why = null;
    var stop = function (reason) { why = reason; controller.abort(); };
    var timer = setTimeout(function () { stop("timeout"); }, o.timeout || 60000);
    var headers = o.header || {};
    var body = o.data === undefined || o.method === "GET" ? undefined : JSON.stringify(o.data);
    fetch(o.url, { method: o.method || "GET", headers: headers, body: body, signal: controller.signal })
      .then(function (r) {
        var header = {};
        r.headers.forEach(function (v, k) { header[k] = v; });
        return r.text().then(function (text) {
          var data = text;
          try { data = JSON.parse(text); } catch (e) { /* not JSON: the text, as WeChat gives it */ }
          answer(o, true, { statusCode: r.status, data: data, header: header, errMsg: "request:ok" });
        });
      })
      .catch(function (e) { answer(o, false, { errMsg: "request:fail " + (why || e.message) }); })
      .then(function () { clearTimeout(timer); });
    return { abort: function () { stop("abort"); } };
  }

  var SHEET_ANSWERS = {
    "get_brand_wcpay_request:ok": "requestPayment:ok",
    "get_brand_wcpay_request:cancel": "requestPayment:fail cancel"
  };

  function requestPayment(o) {
    var params = { appId: appid };
    ["timeStamp", "nonceStr", "package", "signType", "paySign"].forEach(function (k) { params[k] = o[k]; });
    window.WeixinJSBridge.invoke("getBrandWCPayRequest", params, function (res) {
      var errMsg = SHEET_ANSWERS[res.err_msg] || "requestPayment:fail " + (res.err_desc || res.err_msg);
      answer(o, errMsg === "requestPayment:ok", { errMsg: errMsg });
    });
  }

  var page = null;
  var unloaded = false;
  function unload() {
    if (unloaded || !page) return;
    unloaded = true;
    if (typeof page.onUnload === "function") page.onUnload();
  }

  window.wx = {
    login: function (o) {
      postJson("/sim/api/login", { appid: appid }).then(function (r) {
        if (r.code) answer(o, true, { code: r.code, errMsg: "login:ok" });
        else answer(o, false, { errMsg: "login:fail " + r.message });
      }, function () { answer(o, false, { errMsg: "login:fail simulator unreachable" }); });
    },
    request: request,
    requestPayment: requestPayment,
    navigateBack: function (o) {
      unload();
      if (window.parent !== window) window.parent.postMessage({ wxpaySim: "navigateBack" }, "*");
      else history.back();
      answer(o, true, { errMsg: "navigateBack:ok" });
    },
    setNavigationBarTitle: function (o) {
      document.getElementById("sim-title").textContent = o.title;
      answer(o, true, { errMsg: "setNavigationBarTitle:ok" });
    },
    getAppBaseInfo: function () { return { language: (navigator.language || "zh-CN").replace("-", "_") }; },
    getAccountInfoSync: function () { return { miniProgram: { appId: appid, envVersion: "develop" } }; }
  };

  var ICONS = { success: "\u2714", cancel: "\u2715", warn: "!", waiting: "\u231B" };

  function el(tag, className, text) {
    var e = document.createElement(tag);
    if (className) e.className = className;
    if (text) e.textContent = text;
    return e;
  }

  /* index.wxml, drawn from the page's data. */
  function render(data) {
    var card = el("div", "wxpay-card");
    if (data.icon) {
      var icon = el("span", "wxpay-icon", ICONS[data.icon]);
      icon.setAttribute("data-icon", data.icon);
      card.appendChild(icon);
    }
    if (data.busy) card.appendChild(el("div", "wxpay-spinner"));
    var status = el("div", "wxpay-status", data.status);
    status.setAttribute("role", "alert");
    card.appendChild(status);
    if (data.message) card.appendChild(el("div", "wxpay-message", data.message));
    var actions = el("div", "wxpay-actions");
    (data.actions || []).forEach(function (item) {
      var b = el("button", "wxpay-button wxpay-button--" + item.name, item.label);
      b.type = "button";
      b.setAttribute("data-action", item.name);
      b.addEventListener("click", function () { page.onAction({ currentTarget: { dataset: { action: item.name } } }); });
      actions.appendChild(b);
    });
    card.appendChild(actions);
    var view = el("div", "wxpay-page");
    view.setAttribute("data-state", data.state);
    view.setAttribute("lang", data.locale);
    view.appendChild(card);
    root.replaceChildren(view);
  }

  window.Page = function (definition) {
    page = Object.create(definition);
    page.data = JSON.parse(JSON.stringify(definition.data || {}));
    page.route = route;
    page.setData = function (changes) {
      Object.assign(page.data, changes);
      render(page.data);
    };
  };

  document.getElementById("sim-back").addEventListener("click", function () { window.wx.navigateBack({ delta: 1 }); });
  window.addEventListener("pagehide", unload);

  // The pay sheet and its checks are the simulator's JSAPI ones.
  var bridge = document.createElement("script");
  bridge.src = "/sim/bridge.js";
  bridge.onload = function () {
    load(route + ".js");
    var query = {};
    new URLSearchParams(location.search).forEach(function (v, k) { query[k] = v; });
    page.onLoad(query);
  };
  document.head.appendChild(bridge);
})();
