// The storefront's "Add to basket": report the click on this impression without leaving the
// page. Without JavaScript (or if the request fails) the same form posts to /basket instead.
"use strict";

(() => {
  const live = document.getElementById("basket-status");

  for (const form of document.querySelectorAll("form.basket-form")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = form.querySelector("button");
      // aria-disabled rather than disabled: the button keeps keyboard focus.
      if (button.getAttribute("aria-disabled") === "true") return;
      button.setAttribute("aria-disabled", "true");
      const label = button.textContent;
      button.textContent = "Adding…";
      try {
        const response = await fetch("/api/clicks", {
          method: "POST",
          headers: { Accept: "application/json", "Content-Type": "application/json" },
          body: JSON.stringify({ token: form.dataset.clickToken }),
          credentials: "same-origin",
        });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        button.textContent = "✓ Added";
        button.classList.add("is-added");
        const name = form.closest(".deal-card").querySelector(".deal-name").textContent;
        if (live) live.textContent = `${name} is in your basket.`;
      } catch (error) {
        button.textContent = label;
        button.removeAttribute("aria-disabled");
        form.submit(); // the page route reports the click and comes back
      }
    });
  }

  // A deal's image that cannot load gives way to the price tag drawn beside it.
  for (const image of document.querySelectorAll("img.deal-img")) {
    const useDrawing = () => {
      image.hidden = true;
      const drawing = image.nextElementSibling;
      if (drawing) drawing.removeAttribute("hidden");
    };
    if (image.complete && image.naturalWidth === 0) useDrawing();
    else image.addEventListener("error", useDrawing);
  }
})();
