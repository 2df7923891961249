// The site's one script: the search box (Pagefind's UI) and the compare table. Everything it
// loads is a file of this site.
"use strict";

// The site's root: where this script is (pages in roles/ load it as ../site.js).
const root = new URL(".", document.querySelector("script[src$='site.js']").src);

if (document.getElementById("search-box") && window.PagefindUI) {
  const ui = new PagefindUI({
    element: "#search-box",
    baseUrl: root.pathname,
    bundlePath: new URL("pagefind/", root).pathname,
    showImages: false,
    showSubResults: false,
  });
  // Pagefind's box has a title only; a label names it for assistive technology.
  document.querySelector("#search-box input")?.setAttribute("aria-label", "Search titles, aliases, skills and duties");
  const query = new URLSearchParams(location.search).get("q");
  if (query) ui.triggerSearch(query);
}

async function column(code) {
  const answer = await fetch(new URL("data/" + encodeURIComponent(code) + ".json", root));
  if (!answer.ok) throw new Error(code + ": no such role and level in this site");
  return answer.json();
}

function cell(tag, text) {
  const element = document.createElement(tag);
  element.textContent = text;
  return element;
}

async function compare(a, b) {
  const table = document.getElementById("compare");
  const status = document.getElementById("compare-status");
  table.hidden = true;
  table.replaceChildren();
  try {
    const sides = await Promise.all([column(a), column(b)]);
    const head = document.createElement("tr");
    head.append(cell("th", "Aspect"));
    for (const side of sides) {
      const th = document.createElement("th");
      const link = cell("a", side.label);
      link.href = new URL(side.page, root).href;
      th.append(link);
      head.append(th);
    }
    table.append(head);
    sides[0].rows.forEach((row, n) => {
      const tr = document.createElement("tr");
      tr.append(cell("th", row.aspect), cell("td", row.text), cell("td", sides[1].rows[n].text));
      table.append(tr);
    });
    table.hidden = false;
    status.textContent = sides[0].label + " and " + sides[1].label + ", side by side.";
  } catch (error) {
    status.textContent = error.message;
  }
}

const form = document.getElementById("compare-form");
if (form) {
  const wanted = new URLSearchParams(location.search);
  if (wanted.get("a") && wanted.get("b")) {
    form.elements.a.value = wanted.get("a");
    form.elements.b.value = wanted.get("b");
    compare(wanted.get("a"), wanted.get("b"));
  }
}
