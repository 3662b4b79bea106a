// The compose page, a progressive enhancement: a live character count, and for each photo
// picked a preview with its own description box (sent as new_description, in the order the
// photos were picked). Without script the page works the same: the count shows on each
// showing of the form, and photos are described once uploaded.
(function () {
  "use strict";
  var text = document.getElementById("content");
  var count = document.getElementById("content-count");
  if (text && count) {
    var max = parseInt(text.getAttribute("data-max"), 10) || 5000;
    var update = function () {
      var n = text.value.trim().length;
      count.textContent = n + " of " + max + " characters" + (n > max ? ": " + (n - max) + " too many" : "");
      count.classList.toggle("over", n > max);
    };
    text.addEventListener("input", update);
    update();
  }

  var picker = document.getElementById("photos");
  var shelf = document.getElementById("new-photos");
  if (!picker || !shelf || !window.URL || !URL.createObjectURL) return;
  var room = parseInt(picker.getAttribute("data-room"), 10) || 4;
  var urls = [];

  picker.addEventListener("change", function () {
    urls.forEach(function (u) { URL.revokeObjectURL(u); });
    urls = [];
    shelf.textContent = "";
    var files = Array.prototype.slice.call(picker.files || []);
    if (files.length > room) {
      picker.setCustomValidity("A post can have " + room + " more photos at most: pick fewer.");
      picker.reportValidity();
      return;
    }
    picker.setCustomValidity("");
    files.forEach(function (file, i) {
      var id = "new-description-" + i;
      var box = document.createElement("div");
      box.className = "photo undescribed";
      var img = document.createElement("img");
      img.className = "thumb";
      img.alt = "New photo " + (i + 1);
      var url = URL.createObjectURL(file);
      urls.push(url);
      img.src = url;
      var field = document.createElement("div");
      field.className = "field";
      var label = document.createElement("label");
      label.htmlFor = id;
      label.textContent = "Describe new photo " + (i + 1);
      var hint = document.createElement("p");
      hint.className = "hint";
      hint.id = id + "-hint";
      hint.textContent = "Describe the photo for people who cannot see it.";
      var area = document.createElement("textarea");
      area.id = id;
      area.name = "new_description";
      area.rows = 2;
      area.maxLength = 1500;
      area.setAttribute("aria-describedby", hint.id);
      area.addEventListener("input", function () {
        box.classList.toggle("undescribed", !area.value.trim());
      });
      field.appendChild(label);
      field.appendChild(hint);
      field.appendChild(area);
      box.appendChild(img);
      box.appendChild(field);
      shelf.appendChild(box);
    });
  });
})();
