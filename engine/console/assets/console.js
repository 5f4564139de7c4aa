/* global document, window, setTimeout */
// b24-rules console: small conveniences on top of pages that work without script.
// Served from /console/assets/ under a Content-Security-Policy without inline script.
(function () {
  'use strict';
  // The runs filter: a changed select applies at once.
  var filter = document.getElementById('run-filter');
  if (filter) {
    filter.querySelectorAll('select').forEach(function (el) {
      el.addEventListener('change', function () {
        filter.submit();
      });
    });
  }
  // Times in tables: their age as a tooltip ("5 min ago").
  var now = Date.now();
  document.querySelectorAll('td.nowrap').forEach(function (td) {
    var t = Date.parse(td.textContent.trim().replace(' ', 'T'));
    if (isNaN(t)) return;
    var min = Math.round((now - t) / 60000);
    td.title = min < 1 ? 'just now' : min < 120 ? min + ' min ago' : Math.round(min / 60) + ' h ago';
  });
  // The health page follows the minute while it is open.
  if (document.querySelector('.charts')) {
    setTimeout(function () {
      window.location.reload();
    }, 60000);
  }
})();
