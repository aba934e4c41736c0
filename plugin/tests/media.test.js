"use strict";

// Stash's image and gallery pages: the "Identify performers" panel, Add to image / gallery.
const test = require("node:test");
const assert = require("node:assert/strict");

const core = require("../stash-sense/stash-sense-core.js");
const plugin = require("../stash-sense/stash-sense.js");
const { h, elements, textOf, findByClass } = require("./helpers.js");

const STASHDB = "https://stashdb.org/graphql";
const SETTINGS = { serviceUrl: "http://sense:8000", apiKey: "key", minConfidence: 0.5 };

function match(id, name, confidence) {
  return {
    performer: { id, name, stash_ids: [{ endpoint: STASHDB, stash_id: `s-${id}` }] },
    score: confidence,
    confidence,
    votes: 2,
  };
}

function galleryBody() {
  const box = { x: 10, y: 20, w: 30, h: 40 };
  return {
    stash_gallery_id: "3",
    gallery_images: 250,
    images: 200,
    trimmed: true,
    faces: 3,
    skipped: [{ stash_image_id: "9", reason: "Stash image 9 is a video clip, not a picture." }],
    persons: [
      {
        person: 0,
        appearances: 2,
        frames: [{ index: 0, start: null, box }, { index: 1, start: null, box }],
        thumbnail: "data:image/jpeg;base64,/9j/AAAA",
        matches: [match("7", "Bill", 0.95), match("8", "Kit", 0.1)],
        images: [{ stash_image_id: "300", box }, { stash_image_id: "301", box }],
      },
      {
        person: 1,
        appearances: 1,
        frames: [{ index: 2, start: null, box }],
        thumbnail: "data:image/jpeg;base64,/9j/AAAA",
        matches: [match("8", "Kit", 0.07)],
        images: [{ stash_image_id: "304", box }],
      },
    ],
  };
}

function imageBody() {
  return {
    faces: [{ box: { x: 100, y: 50, w: 200, h: 240 }, matches: [match("7", "Bill", 0.9)] }],
    profile: "p",
    index_version: "p:1:2",
    timings_ms: {},
  };
}

test("image and gallery ids come from Stash paths, with or without a base path", () => {
  assert.equal(core.mediaIdFromPath("image", "/images/12"), "12");
  assert.equal(core.mediaIdFromPath("gallery", "/base/galleries/3/"), "3");
  assert.equal(core.mediaIdFromPath("gallery", "/images/3"), null);
  assert.equal(core.mediaIdFromPath("image", "/scenes/3"), null);
});

test("an image is identified by its Stash id, a gallery with its cast's stash IDs", () => {
  const image = core.identifyMediaRequest(SETTINGS, "image", 12, []);
  assert.equal(image.url, "http://sense:8000/api/v1/identify");
  assert.deepEqual(JSON.parse(image.init.body), { stash_image_id: "12" });
  assert.equal(image.init.headers.Authorization, "Api-Key key");
  const cast = [{ endpoint: STASHDB, stash_id: "s-7" }, { bad: true }];
  const gallery = core.identifyMediaRequest(SETTINGS, "gallery", "3", cast);
  assert.equal(gallery.url, "http://sense:8000/api/v1/identify/gallery");
  assert.deepEqual(JSON.parse(gallery.init.body), {
    stash_gallery_id: "3",
    known_performer_ids: [{ endpoint: STASHDB, stash_id: "s-7" }],
  });
});

test("a gallery's persons are counted in images and list the images they are in", () => {
  const view = core.mediaResultsView("gallery", galleryBody(), { minConfidence: 0.5, castStashIds: [] });
  assert.equal(view.unit, "image");
  assert.equal(view.frames, 200);
  assert.equal(view.trimmed, true);
  assert.equal(view.skipped, 1);
  assert.deepEqual(view.persons.map((p) => p.imageIds), [["300", "301"], ["304"]]);
  assert.deepEqual(view.persons.map((p) => p.candidates.map((c) => c.name)), [["Bill"], []]);
  assert.equal(view.persons[0].faceStyle, null);
});

test("one image's faces become persons with their face cropped out of Stash's picture", () => {
  const view = core.mediaResultsView("image", imageBody(), {
    minConfidence: 0.5,
    castStashIds: [{ endpoint: STASHDB, stash_id: "s-7" }],
    imageUrl: "http://stash.local/image/12/image",
    imageSize: { width: 800, height: 600 },
  });
  assert.equal(view.frames, 1);
  assert.equal(view.persons.length, 1);
  const [person] = view.persons;
  assert.equal(person.candidates[0].inScene, true);
  assert.deepEqual(person.faceStyle, {
    backgroundImage: 'url("http://stash.local/image/12/image")',
    backgroundPosition: "-48px -24px",
    backgroundSize: "384px 288px",
    backgroundRepeat: "no-repeat",
    width: "96px",
    height: "115px",
  });
});

test("a face crop needs an http(s) picture and a real box", () => {
  const size = { width: 10, height: 10 };
  assert.equal(core.faceCropStyle({ x: 0, y: 0, w: 5, h: 5 }, "javascript:alert(1)", size), null);
  assert.equal(core.faceCropStyle({ x: 0, y: 0, w: 0, h: 5 }, "http://s/i", size), null);
  assert.equal(core.faceCropStyle({ x: 0, y: 0, w: 5, h: 5 }, "http://s/i", null), null);
});

function recordingGql(localPerformers) {
  const calls = [];
  const gql = async (name, variables) => {
    calls.push({ name, variables });
    if (name === "FindPerformersByStashId") {
      const found = localPerformers.filter((p) => p.stash_id === variables.stash_id);
      return { findPerformers: { count: found.length, performers: found } };
    }
    if (name === "PerformerCreate") return { performerCreate: { id: "100", name: variables.input.name } };
    if (name === "BulkImageUpdateAddPerformers") return { bulkImageUpdate: [] };
    if (name === "BulkGalleryUpdateAddPerformers") return { bulkGalleryUpdate: [] };
    throw new Error(`unexpected ${name}`);
  };
  return { calls, gql };
}

function candidateOf(id) {
  return { performerId: id, name: "Bill", disambiguation: "", aliases: [], image: null, stashIds: [{ endpoint: STASHDB, stash_id: `s-${id}` }] };
}

test("adding to a gallery adds to it and to the person's images, both with mode ADD", async () => {
  const io = recordingGql([{ id: "5", stash_id: "s-7" }]);
  const request = { kind: "gallery", mediaId: "3", imageIds: ["300", "301"], candidate: candidateOf("7") };
  const result = await core.addCandidateToMedia(io, request);
  assert.equal(result.performer.id, "5");
  assert.deepEqual(io.calls.slice(1), [
    { name: "BulkGalleryUpdateAddPerformers", variables: { gallery_ids: ["3"], performer_ids: ["5"] } },
    { name: "BulkImageUpdateAddPerformers", variables: { image_ids: ["300", "301"], performer_ids: ["5"] } },
  ]);
  for (const name of ["BulkGalleryUpdateAddPerformers", "BulkImageUpdateAddPerformers"]) {
    assert.match(core.DOCUMENTS[name], /mode: ADD/);
  }
});

test("adding to an image sends only bulkImageUpdate; a missing performer is created only when asked", async () => {
  const io = recordingGql([]);
  const request = { kind: "image", mediaId: "12", candidate: candidateOf("7") };
  assert.deepEqual(await core.addCandidateToMedia(io, request), { performer: null, created: false });
  assert.deepEqual(io.calls.map((c) => c.name), ["FindPerformersByStashId"]);
  const created = await core.addCandidateToMedia(io, { ...request, create: true });
  assert.equal(created.created, true);
  assert.deepEqual(io.calls.slice(2).map((c) => c.name), ["PerformerCreate", "BulkImageUpdateAddPerformers"]);
  assert.deepEqual(io.calls[3].variables, { image_ids: ["12"], performer_ids: ["100"] });
});

test("the gallery panel says Add to gallery, counts images, links them, and has no reject", () => {
  const view = core.mediaResultsView("gallery", galleryBody(), { minConfidence: 0.5, castStashIds: [] });
  const state = { ...plugin.IDLE_STATE, phase: "done", view, saved: plugin.mediaNote(view, galleryBody()) };
  const actions = { identify() {}, rerun() {}, add() {}, seek() {}, noun: "gallery" };
  const tree = plugin.renderPanel(h, state, actions);
  assert.equal(textOf(findByClass(tree, "ss-summary")[0]), "2 people in 200 images (3 faces).");
  assert.deepEqual(findByClass(tree, "ss-add").map(textOf), ["Add to gallery"]);
  assert.equal(findByClass(tree, "ss-reject").length, 0);
  assert.match(textOf(findByClass(tree, "ss-appearances")[0]), /seen in 2 images/);
  assert.deepEqual(
    findByClass(tree, "ss-image-link").map((a) => [a.props.href, textOf(a)]),
    [["../images/300", "#300"], ["../images/301", "#301"], ["../images/304", "#304"]],
  );
  assert.equal(
    textOf(findByClass(tree, "ss-saved")[0]),
    "Only the first 200 of the gallery's 250 images were identified. 1 image could not be read.",
  );
  const added = plugin.renderCandidate(h, view.persons[0], view.persons[0].candidates[0], { status: "added" }, actions);
  assert.equal(textOf(findByClass(added, "ss-done")[0]), "Added to gallery");
});

test("the scene panel keeps its words when no noun is given", () => {
  const view = core.resultsView({ frames: 3, faces: 1, persons: [{ person: 0, frames: [], matches: [match("7", "Bill", 0.9)] }] }, {
    minConfidence: 0.5,
    castStashIds: [],
  });
  const actions = { identify() {}, rerun() {}, add() {}, reject() {}, seek() {} };
  const tree = plugin.renderPanel(h, { ...plugin.IDLE_STATE, phase: "done", view }, actions);
  assert.deepEqual(findByClass(tree, "ss-add").map(textOf), ["Add to scene"]);
  assert.equal(findByClass(tree, "ss-reject").length, 1);
  assert.equal(textOf(findByClass(tree, "ss-summary")[0]), "1 person in 3 frames (1 faces).");
});

// -- the stateful panel, with a small hooks implementation and a recording fetch -----------------

function hooksReact() {
  const slots = [];
  let position = 0;
  let effectsRun = false;
  const React = {
    createElement: h,
    Fragment: "fragment",
    useState(initial) {
      const at = position++;
      if (!(at in slots)) slots[at] = initial;
      return [slots[at], (value) => (slots[at] = typeof value === "function" ? value(slots[at]) : value)];
    },
    useRef(initial) {
      const at = position++;
      if (!(at in slots)) slots[at] = { current: initial };
      return slots[at];
    },
    useEffect(effect) {
      position++;
      if (!effectsRun) {
        effectsRun = true;
        effect();
      }
    },
  };
  const render = (Component, props) => {
    position = 0;
    return Component(props);
  };
  return { React, render };
}

function fakeWindow(serviceBody, serviceStatus = 200, galleryPerformers = []) {
  const requests = [];
  const stash = {
    PluginConfiguration: { configuration: { plugins: { "stash-sense": { serviceUrl: "http://sense:8000", apiKey: "key" } } } },
    FindGalleryForIdentify: { findGallery: { id: "3", title: "G", image_count: 250, performers: galleryPerformers } },
    FindPerformersByStashId: { findPerformers: { count: 1, performers: [{ id: "5", name: "Bill" }] } },
    BulkGalleryUpdateAddPerformers: { bulkGalleryUpdate: [{ id: "3", performers: [{ id: "5" }] }] },
    BulkImageUpdateAddPerformers: { bulkImageUpdate: [] },
  };
  const respond = (status, payload) => ({ status, ok: status < 400, text: async () => JSON.stringify(payload) });
  return {
    requests,
    document: { baseURI: "http://stash.local/" }, // Stash pages carry <base href="/">
    location: { pathname: "/galleries/3" },
    AbortController,
    setTimeout,
    clearTimeout,
    setInterval,
    clearInterval,
    fetch: async (url, init) => {
      const body = init && init.body ? JSON.parse(init.body) : null;
      requests.push({ url, body });
      if (url === "http://stash.local/graphql") return respond(200, { data: stash[body.operationName] });
      return respond(serviceStatus, serviceBody);
    },
  };
}

async function clickIdentify(render, Panel) {
  const button = findByClass(render(Panel, { mediaId: "3" }), "ss-identify")[0];
  await button.props.onClick();
  return render(Panel, { mediaId: "3" });
}

test("the gallery panel identifies the gallery and adds a candidate to it and its images", async () => {
  const { React, render } = hooksReact();
  const win = fakeWindow(galleryBody());
  const Panel = plugin.createMediaPanelComponent({ React, patch: {} }, win, "gallery");
  const tree = await clickIdentify(render, Panel);
  const service = win.requests.find((r) => r.url.startsWith("http://sense:8000"));
  assert.equal(service.url, "http://sense:8000/api/v1/identify/gallery");
  assert.deepEqual(service.body, { stash_gallery_id: "3", known_performer_ids: [] });
  const [add] = findByClass(tree, "ss-add");
  assert.equal(textOf(add), "Add to gallery");
  await add.props.onClick();
  const mutations = win.requests.filter((r) => r.body && String(r.body.operationName).startsWith("Bulk"));
  assert.deepEqual(
    mutations.map((r) => [r.body.operationName, r.body.variables]),
    [
      ["BulkGalleryUpdateAddPerformers", { gallery_ids: ["3"], performer_ids: ["5"] }],
      ["BulkImageUpdateAddPerformers", { image_ids: ["300", "301"], performer_ids: ["5"] }],
    ],
  );
  assert.equal(textOf(findByClass(render(Panel, { mediaId: "3" }), "ss-done")[0]), "Added to gallery");
});

test("the gallery panel shows the service's refusal as a sentence", async () => {
  const { React, render } = hooksReact();
  const refusal = { error: { code: "gallery_too_large", message: "Stash gallery 3 has 10000 images; at most 200" } };
  const win = fakeWindow(refusal, 413);
  const Panel = plugin.createMediaPanelComponent({ React, patch: {} }, win, "gallery");
  const tree = await clickIdentify(render, Panel);
  const [alert] = findByClass(tree, "ss-error");
  assert.match(textOf(alert), /10000 images; at most 200/);
  assert.equal(elements(tree).some((el) => String(el.props.className || "").includes("ss-person")), false);
});

test("install patches Stash's image and gallery pages besides the scene page", () => {
  const patched = [];
  const { React } = hooksReact();
  const api = {
    React,
    libraries: {},
    patch: { before: () => undefined, after: (name) => patched.push(name), instead: () => undefined },
  };
  plugin.install(api, fakeWindow({}));
  assert.deepEqual(patched.sort(), ["GalleryPage", "ImagePage", "ScenePage"]);
});

test("a candidate the gallery already has as a local performer is marked, not offered", async () => {
  const { React, render } = hooksReact();
  const win = fakeWindow(galleryBody(), 200, [{ id: "5", name: "Bill", stash_ids: [] }]);
  const Panel = plugin.createMediaPanelComponent({ React, patch: {} }, win, "gallery");
  const tree = await clickIdentify(render, Panel);
  assert.equal(findByClass(tree, "ss-add").length, 0);
  assert.deepEqual(findByClass(tree, "ss-muted").map(textOf).filter((t) => t.startsWith("Already")), [
    "Already in this gallery",
  ]);
});
