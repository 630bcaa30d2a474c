// Portal: share the browser's location instead of typing coordinates.
(function () {
  const button = document.getElementById("locate");
  if (!button || !navigator.geolocation) return;
  button.addEventListener("click", () => {
    navigator.geolocation.getCurrentPosition((position) => {
      document.querySelector("input[name=lat]").value = position.coords.latitude.toFixed(6);
      document.querySelector("input[name=lon]").value = position.coords.longitude.toFixed(6);
      document.getElementById("located").textContent = button.dataset.found;
    });
  });
})();
