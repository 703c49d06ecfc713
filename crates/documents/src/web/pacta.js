// Pacta's pages work without this script. With it, the year slider moves
// the day asked about (keeping its month and day) and shows the list.
document.addEventListener("DOMContentLoaded", function () {
  var slider = document.getElementById("year");
  var day = document.getElementById("on");
  if (!slider || !day) return;
  slider.addEventListener("input", function () {
    var rest = (day.value || "2000-01-01").slice(4);
    if (rest === "-02-29") rest = "-02-28";
    day.value = slider.value + rest;
    document.getElementById("year-shown").textContent = slider.value;
  });
  slider.addEventListener("change", function () { day.form.submit(); });
  day.addEventListener("change", function () { day.form.submit(); });
});
