/* The language switch of "From Rank to LoRA": English / 中文 / both.
 *
 * Loaded in <head> (html_js_files), so the choice is applied to <html data-lang="…"> before the
 * body is painted: no flash of the other language. The choice comes from ?lang=en|zh|both in the
 * address, else from localStorage (remembered across pages and visits), else from the browser's
 * language. Prose lives in <div class="lang-en"> / <div class="lang-zh"> pairs; lang.css hides one.
 */
(function () {
  "use strict";
  var KEY = "rank-to-lora:lang";
  var LANGS = ["en", "zh", "both"];
  var LABELS = { en: "English", zh: "中文", both: "EN + 中文" };

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
