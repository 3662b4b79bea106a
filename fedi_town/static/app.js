// Small progressive enhancements of the owner's app; every page works without them.
(function () {
  "use strict";
  // On a phone the section tabs scroll sideways: bring the current one into view.
  var here = document.querySelector('.tabs [aria-current="page"]');
  if (here && here.scrollIntoView) here.scrollIntoView({ block: "nearest", inline: "center" });
})();
