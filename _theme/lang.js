/* The language switch of "From Rank to LoRA": English / 中文 / both.
 *
 * Loaded in <head> (html_js_files), so the choice is applied to <html data-lang="…"> before the
 * body is painted: no flash of the other language. The choice comes from ?lang=en|zh|both in the
 * address, else from localStorage (remembered across pages and visits), else from the browser's
 * language. Prose lives in <div class="lang-en"> / <div class="lang-zh"> pairs; lang.css hides one.
 */
/* The ipywidgets HTML manager typesets widget text through MathJax 2's MathJax.Hub.Queue; the
 * book serves MathJax 3, which has no Hub ("Cannot read properties of undefined (reading
 * 'Queue')"). MathJax (a deferred script) exists by DOMContentLoaded, before the widget manager
 * draws: give it a Hub.Queue that asks MathJax 3 to typeset instead. Registered here, in <head>,
 * this listener runs before the widget manager's. */
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var mj = window.MathJax;
  if (mj && typeof mj === "object" && !mj.Hub) {
    mj.Hub = { Queue: function () {
      if (window.MathJax.typesetPromise) window.MathJax.typesetPromise().catch(function () {});
    } };
  }
});

(function () {
  "use strict";
  var KEY = "rank-to-lora:lang";
  var LANGS = ["en", "zh", "both"];
  var LABELS = { en: "English", zh: "中文", both: "EN + 中文" };
  // The theme's own words (the page chrome), shown in Chinese when 中文 is chosen.
  var CHROME_ZH = {
    "Contents": "本頁目錄", "previous": "上一頁", "next": "下一頁",
    "Show code cell source": "顯示程式碼", "Hide code cell source": "隱藏程式碼",
    "Show code cell output": "顯示輸出", "Hide code cell output": "隱藏輸出",
    "Show code cell content": "顯示程式碼儲存格", "Hide code cell content": "隱藏程式碼儲存格",
    "Skip to main content": "跳到主要內容", "Back to top": "回到頂端",
    "By The From Rank to LoRA authors": "《從矩陣的秩到 LoRA》作者群",
    "Search this book...": "搜尋本書……", "Search": "搜尋", "Search Results": "搜尋結果",
    "Searching": "搜尋中", "Preparing search...": "正在準備搜尋……"
  };
  // Messages the search page writes while it runs (Sphinx's searchtools.js), as patterns.
  var SEARCH_ZH = [
    [/^Search finished, found (\d+) page\(s\) matching the search query\.$/,
     "搜尋完成，找到 $1 頁符合搜尋條件。"],
    [/^Your search did not match any documents\..*/, "找不到符合的頁面。請確認拼字是否正確，或換個關鍵字。"]
  ];
  var CHROME_SELECTORS = ".onthispage, .prev-next-subtitle, details.hide summary p, " +
    ".skip-link, #pst-back-to-top, .footer-item p, .bd-footer-content p, #search-results h2, " +
    "#search-results p.search-summary";

  function translateChrome(v) {
    var zh = v === "zh";
    var els = document.querySelectorAll(CHROME_SELECTORS);
    for (var i = 0; i < els.length; i++) {
      var nodes = els[i].childNodes;
      for (var j = 0; j < nodes.length; j++) {
        var t = nodes[j];
        if (t.nodeType !== 3) continue;                       // text nodes only
        if (t.__en === undefined) t.__en = t.nodeValue;
        var key = t.__en.trim();
        if (!CHROME_ZH.hasOwnProperty(key)) continue;
        var value = zh ? t.__en.replace(key, CHROME_ZH[key]) : t.__en;
        if (t.nodeValue !== value) t.nodeValue = value;     // no write, no mutation: no loop
      }
    }
    var dynamic = document.querySelectorAll("#search-results p.search-summary, #search-progress");
    for (var d = 0; d < dynamic.length; d++) {
      var el = dynamic[d], text = el.textContent.trim();
      if (el.__en === undefined || (text !== el.__zh && text !== el.__en)) el.__en = text;
      var zhText = el.__en;
      SEARCH_ZH.forEach(function (rule) { zhText = zhText.replace(rule[0], rule[1]); });
      if (CHROME_ZH.hasOwnProperty(el.__en)) zhText = CHROME_ZH[el.__en];
      el.__zh = zhText;
      var want = zh ? zhText : el.__en;
      if (el.textContent !== want) el.textContent = want;
    }
    var inputs = document.querySelectorAll("input[placeholder]");
    for (var k = 0; k < inputs.length; k++) {
      var inp = inputs[k];
      if (inp.__en === undefined) inp.__en = inp.getAttribute("placeholder");
      var p = CHROME_ZH[inp.__en];
      inp.setAttribute("placeholder", zh && p ? p : inp.__en);
    }
  }

  function valid(v) { return LANGS.indexOf(v) >= 0 ? v : null; }
  function fromUrl() {
    try { return valid(new URLSearchParams(window.location.search).get("lang")); } catch (e) { return null; }
  }
  function stored() {
    try { return valid(window.localStorage.getItem(KEY)); } catch (e) { return null; }
  }
  function save(v) {
    try { window.localStorage.setItem(KEY, v); } catch (e) { /* private mode: the URL still works */ }
  }
  function browserDefault() {
    var nav = (navigator.languages && navigator.languages[0]) || navigator.language || "en";
    return /^zh/i.test(nav) ? "zh" : "en";
  }
  function apply(v) {
    var root = document.documentElement;
    root.setAttribute("data-lang", v);
    root.setAttribute("lang", v === "zh" ? "zh-Hant-TW" : "en");
    var buttons = document.querySelectorAll(".lang-switch button");
    for (var i = 0; i < buttons.length; i++) {
      var on = buttons[i].getAttribute("data-set-lang") === v;
      buttons[i].setAttribute("aria-pressed", on ? "true" : "false");
    }
    if (document.readyState !== "loading") translateChrome(v);
  }

  var urlLang = fromUrl();
  if (urlLang) save(urlLang);
  var current = urlLang || stored() || browserDefault();
  apply(current);

  function setLang(v) { current = v; save(v); apply(v); }

  function buildSwitch() {
    var box = document.createElement("div");
    box.className = "lang-switch";
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", "Language / 語言");
    LANGS.forEach(function (v) {
      var b = document.createElement("button");
      b.type = "button";
      b.textContent = LABELS[v];
      b.setAttribute("data-set-lang", v);
      b.addEventListener("click", function () { setLang(v); });
      box.appendChild(b);
    });
    var host = document.querySelector(".article-header-buttons") ||
               document.querySelector(".bd-header-article") || document.body;
    host.insertBefore(box, host.firstChild);
    apply(current);
    // The search page writes its results after the page has loaded: translate them as they come.
    var results = document.getElementById("search-results");
    if (results && window.MutationObserver) {
      new MutationObserver(function () { if (current === "zh") translateChrome(current); })
        .observe(results, { childList: true, subtree: true, characterData: true });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", buildSwitch);
  } else {
    buildSwitch();
  }
  // Another tab changed the language: follow it.
  window.addEventListener("storage", function (ev) {
    if (ev.key === KEY && valid(ev.newValue)) { current = ev.newValue; apply(current); }
  });
})();
