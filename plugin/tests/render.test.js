"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");

const core = require("../stash-sense/stash-sense-core.js");
const plugin = require("../stash-sense/stash-sense.js");
const { h, toHtml, elements, textOf, findByClass } = require("./helpers.js");

const EVIL = "<img src=x onerror=alert(1)>";

function response(name, extra = {}) {
  return {
    frames: 81,
    faces: 4,
    persons: [
      {
        person: 0,
        appearances: 2,
        frames: [
          { index: 3, start: 15, box: { x: 1, y: 2, w: 3, h: 4 } },
          { index: 9, start: 45, box: { x: 1, y: 2, w: 3, h: 4 } },
        ],
        thumbnail: "data:image/jpeg;base64,/9j/AAAA",
        matches: [
          {
            performer: {
              id: "7",
              name,
              disambiguation: `"${EVIL}"`,
              stash_ids: [{ endpoint: "https://stashdb.org/graphql", stash_id: "s-7" }],
            },
            score: 0.9,
            confidence: 0.91,
            distance: 0.3,
            votes: 2,
          },
        ],
        ...extra,
      },
    ],
  };
}

function panel(view, candidates = {}, overrides = {}) {
  const calls = [];
  const actions = {
    identify: () => calls.push(["identify"]),
    rerun: () => calls.push(["rerun"]),
    seek: (s) => calls.push(["seek", s]),
    add: (p, c, create) => calls.push(["add", c.performerId, create]),
    reject: (p, c) => calls.push(["reject", c.performerId]),
  };
  const state = { ...plugin.IDLE_STATE, phase: "done", view, candidates, ...overrides };
  return { tree: plugin.renderPanel(h, state, actions), calls };
}

function viewOf(resp, castStashIds = []) {
  return core.resultsView(resp, { minConfidence: 0.5, castStashIds });
}

test("a performer named like an HTML tag is rendered as text", () => {
  const { tree } = panel(viewOf(response(EVIL)));
  const html = toHtml(tree);
  assert.ok(html.includes("&lt;img src=x onerror=alert(1)&gt;"));
  assert.ok(!html.includes("<img src=x"));
  const [name] = findByClass(tree, "ss-name");
  assert.deepEqual(name.children, [EVIL]);
  const images = elements(tree).filter((el) => el.type === "img");
  assert.deepEqual(
    images.map((el) => el.props.src),
    ["data:image/jpeg;base64,/9j/AAAA"],
  );
});

test("no element is ever given raw HTML", () => {
  const { tree } = panel(viewOf(response(EVIL)), {}, { error: EVIL });
  for (const el of elements(tree)) {
    assert.ok(!("dangerouslySetInnerHTML" in el.props), `${el.type} has dangerouslySetInnerHTML`);
    assert.equal(typeof el.type, "string");
  }
  assert.equal(textOf(findByClass(tree, "ss-error")[0]), EVIL);
});

test("links point to the stash-box page and open safely in a new tab", () => {
  const { tree } = panel(viewOf(response("Jane")));
  const links = elements(tree).filter((el) => el.type === "a");
  assert.deepEqual(
    links.map((a) => [a.props.href, a.props.target, a.props.rel, textOf(a)]),
    [["https://stashdb.org/performers/s-7", "_blank", "noopener noreferrer", "stashdb.org"]],
  );
});

test("timestamps seek the player to each appearance", () => {
  const { tree, calls } = panel(viewOf(response("Jane")));
  const stamps = findByClass(tree, "ss-timestamp");
  assert.deepEqual(stamps.map(textOf), ["0:15", "0:45"]);
  stamps[1].props.onClick();
  assert.deepEqual(calls, [["seek", 45]]);
});

test("a candidate shows its confidence and the add and reject buttons", () => {
  const { tree, calls } = panel(viewOf(response("Jane")));
  assert.equal(textOf(findByClass(tree, "ss-confidence")[0]), "91%");
  findByClass(tree, "ss-add")[0].props.onClick();
  findByClass(tree, "ss-reject")[0].props.onClick();
  assert.deepEqual(calls, [
    ["add", "7", false],
    ["reject", "7"],
  ]);
});

test("a candidate Stash does not have offers to create the performer", () => {
  const view = viewOf(response("Jane"));
  const key = plugin.candidateKey(view.persons[0], view.persons[0].candidates[0]);
  const { tree, calls } = panel(view, { [key]: { lookup: "missing" } });
  assert.equal(findByClass(tree, "ss-add").length, 0);
  findByClass(tree, "ss-create")[0].props.onClick();
  assert.deepEqual(calls, [["add", "7", true]]);
});

test("a candidate already in the scene offers no add button", () => {
  const view = viewOf(response("Jane"), [{ endpoint: "https://stashdb.org/graphql", stash_id: "s-7" }]);
  const { tree } = panel(view);
  assert.equal(findByClass(tree, "ss-add").length, 0);
  assert.match(toHtml(tree), /Already in this scene/);
});

test("added and rejected candidates show their outcome instead of buttons", () => {
  const view = viewOf(response("Jane"));
  const key = plugin.candidateKey(view.persons[0], view.persons[0].candidates[0]);
  const added = panel(view, { [key]: { status: "added", created: true } }).tree;
  assert.match(toHtml(added), /Created and added to scene/);
  assert.equal(elements(added).filter((el) => el.type === "button" && /ss-add|ss-reject/.test(el.props.className)).length, 0);
  assert.match(toHtml(panel(view, { [key]: { status: "rejected" } }).tree), /Marked as not this person/);
});

test("a person with nobody above the threshold says so and counts the hidden", () => {
  const resp = response("Jane");
  resp.persons[0].matches[0].confidence = 0.2;
  const { tree } = panel(viewOf(resp));
  assert.match(toHtml(tree), /Nobody in the gallery above 50%/);
  assert.match(toHtml(tree), /1 candidate below 50% hidden/);
});

test("while loading the panel shows progress and disables the button", () => {
  const { tree } = panel(null, {}, { phase: "loading", progress: "Stash Sense is looking for faces… 3 s" });
  const [button] = findByClass(tree, "ss-identify");
  assert.equal(button.props.disabled, true);
  assert.match(textOf(findByClass(tree, "ss-progress")[0]), /3 s/);
});

test("without a thumbnail the first frame's sprite tile stands in", () => {
  const view = viewOf(response("Jane", { thumbnail: null }));
  const sprite = { url: "http://stash/scene/1/sprite", cues: Array.from({ length: 10 }, (_, i) => ({ x: i * 160, y: 0, w: 160, h: 90 })) };
  const { tree } = panel(view, {}, { sprite });
  const [tile] = findByClass(tree, "ss-thumb-sprite");
  assert.equal(tile.props.style.backgroundPosition, "-480px -0px");
});

test("a saved result says where it came from and offers to re-run", () => {
  const { tree, calls } = panel(viewOf(response("Jane")), {}, { saved: "Saved result from 2024-05-01 14:03 (library scan)." });
  assert.match(textOf(findByClass(tree, "ss-saved")[0]), /library scan/);
  const [button] = findByClass(tree, "ss-identify");
  assert.equal(textOf(button), "Re-run");
  button.props.onClick();
  assert.deepEqual(calls, [["rerun"]]);
});

test("before any result the button identifies", () => {
  const { tree, calls } = panel(null, {}, { phase: "idle" });
  const [button] = findByClass(tree, "ss-identify");
  assert.equal(textOf(button), "Identify performers");
  button.props.onClick();
  assert.deepEqual(calls, [["identify"]]);
  assert.equal(findByClass(tree, "ss-saved").length, 0);
});
