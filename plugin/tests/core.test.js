"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");

const core = require("../stash-sense/stash-sense-core.js");

const STILLS_VTT = path.resolve(__dirname, "../../../shared/faces/sprites/dev_stills_thumbs.vtt");

const VTT = `WEBVTT

00:00:00.000 --> 00:00:05.000
abc_sprite.jpg#xywh=0,0,160,90

00:00:05.000 --> 00:00:10.500
abc_sprite.jpg#xywh=160,0,160,90

01:02:03.250 --> 01:02:08.000
abc_sprite.jpg#xywh=1280,720,160,90
`;

function match(id, name, confidence, extra = {}) {
  return {
    performer: {
      id,
      name,
      disambiguation: "",
      stash_ids: [{ endpoint: "https://stashdb.org/graphql", stash_id: `uuid-${id}` }],
    },
    score: confidence,
    confidence,
    distance: 1 - confidence,
    votes: 3,
    ...extra,
  };
}

test("VTT timestamps parse to seconds, with or without hours", () => {
  assert.equal(core.parseVttTimestamp("00:00:05.000"), 5);
  assert.equal(core.parseVttTimestamp("01:02:03.250"), 3723.25);
  assert.equal(core.parseVttTimestamp("02:03.5"), 123.5);
  assert.ok(Number.isNaN(core.parseVttTimestamp("5 seconds")));
});

test("xywh fragments parse to a box and anything else to null", () => {
  assert.deepEqual(core.parseXywh("abc_sprite.jpg#xywh=160,90,160,90"), { x: 160, y: 90, w: 160, h: 90 });
  assert.equal(core.parseXywh("abc_sprite.jpg"), null);
  assert.equal(core.parseXywh("abc_sprite.jpg#xywh=1,2,3"), null);
});

test("a sprite VTT parses to one cue per tile, in order", () => {
  const cues = core.parseSpriteVtt(VTT);
  assert.equal(cues.length, 3);
  assert.deepEqual(cues[1], { index: 1, start: 5, end: 10.5, image: "abc_sprite.jpg", x: 160, y: 0, w: 160, h: 90 });
  assert.equal(cues[2].start, 3723.25);
});

test("CRLF line endings and garbage cues are tolerated", () => {
  const cues = core.parseSpriteVtt(VTT.replace(/\n/g, "\r\n") + "\r\n00:00:10.000 --> nonsense\r\nx.jpg#xywh=1,1,1,1\r\n");
  assert.equal(cues.length, 3);
});

test("the dev stills VTT from the shared set parses to its 25 tiles", { skip: !fs.existsSync(STILLS_VTT) }, () => {
  const cues = core.parseSpriteVtt(fs.readFileSync(STILLS_VTT, "utf8"));
  assert.equal(cues.length, 25);
  assert.deepEqual(cues[6], { index: 6, start: 30, end: 35, image: "dev_stills_sprite.jpg", x: 160, y: 90, w: 160, h: 90 });
});

test("a sprite tile style shows the tile at its natural size", () => {
  const [cue] = core.parseSpriteVtt(VTT).slice(1);
  assert.deepEqual(core.spriteTileStyle(cue, "http://stash:9999/scene/1/sprite"), {
    backgroundImage: 'url("http://stash:9999/scene/1/sprite")',
    backgroundPosition: "-160px -0px",
    backgroundRepeat: "no-repeat",
    width: "160px",
    height: "90px",
  });
  assert.equal(core.spriteTileStyle(cue, 'javascript:alert(1)"'), null);
});

test("timestamps are formatted like a player's", () => {
  assert.equal(core.formatTimestamp(5), "0:05");
  assert.equal(core.formatTimestamp(754.9), "12:34");
  assert.equal(core.formatTimestamp(3723.25), "1:02:03");
});

test("stash-box page URLs drop /graphql and add /performers/<id>", () => {
  assert.equal(
    core.stashBoxPerformerUrl("https://stashdb.org/graphql", "6f2b7c1e-0000-4000-8000-000000000001"),
    "https://stashdb.org/performers/6f2b7c1e-0000-4000-8000-000000000001",
  );
  assert.equal(core.stashBoxPerformerUrl("https://fansdb.cc/graphql/", "x"), "https://fansdb.cc/performers/x");
  assert.equal(core.stashBoxPerformerUrl("http://box.lan:9998/graphql", "a/b"), "http://box.lan:9998/performers/a%2Fb");
});

test("stash-box links are refused for non-http endpoints", () => {
  assert.equal(core.stashBoxPerformerUrl("javascript:alert(1)//graphql", "x"), null);
  assert.equal(core.stashBoxPerformerUrl("not a url", "x"), null);
  assert.equal(core.stashBoxPerformerUrl("https://stashdb.org/graphql", ""), null);
});

test("scene ids come from Stash paths, with or without a base path", () => {
  assert.equal(core.sceneIdFromPath("/scenes/12"), "12");
  assert.equal(core.sceneIdFromPath("/stash/scenes/7/"), "7");
  assert.equal(core.sceneIdFromPath("/scenes/new"), null);
  assert.equal(core.sceneIdFromPath("/performers/3"), null);
});

test("settings fall back to the rendered service URL and a 50 % threshold", () => {
  assert.deepEqual(core.parseSettings({}), {
    serviceUrl: core.DEFAULT_SERVICE_URL,
    serviceUrlInvalid: false,
    apiKey: "",
    minConfidence: 0.5,
  });
  const settings = core.parseSettings({
    "stash-sense": { serviceUrl: " https://sense.lan/ ", apiKey: " k ", minConfidence: 35 },
  });
  assert.deepEqual(settings, { serviceUrl: "https://sense.lan", serviceUrlInvalid: false, apiKey: "k", minConfidence: 0.35 });
});

test("minConfidence reads percents and fractions, and ignores nonsense", () => {
  assert.equal(core.parseMinConfidence(0.8), 0.8);
  assert.equal(core.parseMinConfidence(80), 0.8);
  assert.equal(core.parseMinConfidence("65"), 0.65);
  assert.equal(core.parseMinConfidence(1000), 1);
  assert.equal(core.parseMinConfidence(-3), 0.5);
  assert.equal(core.parseMinConfidence("lots"), 0.5);
});

test("a service URL that is not http(s) is flagged", () => {
  const settings = core.parseSettings({ "stash-sense": { serviceUrl: "javascript:alert(1)" } });
  assert.equal(settings.serviceUrl, null);
  assert.equal(settings.serviceUrlInvalid, true);
});

test("matches below the minimum confidence are dropped and the rest sorted best first", () => {
  const ranked = core.rankMatches(
    [match("1", "Low", 0.2), match("2", "Mid", 0.6), match("3", "High", 0.9), match("4", "Tie", 0.6, { score: 0.9 })],
    0.5,
  );
  assert.deepEqual(
    ranked.map((m) => m.performer.name),
    ["High", "Tie", "Mid"],
  );
  assert.deepEqual(core.rankMatches(undefined, 0.5), []);
});

test("the results view carries percent labels, links, timestamps and hidden counts", () => {
  const view = core.resultsView(
    {
      frames: 81,
      faces: 7,
      persons: [
        {
          person: 0,
          appearances: 3,
          frames: [
            { index: 4, start: 20, box: {} },
            { index: 1, start: 5, box: {} },
            { index: 2, start: "00:00:05.000", box: {} },
          ],
          thumbnail: "data:image/jpeg;base64,/9j/AAAA",
          matches: [match("3", "High", 0.873), match("1", "Low", 0.1)],
        },
      ],
    },
    { minConfidence: 0.5, castStashIds: [] },
  );
  const [person] = view.persons;
  assert.equal(view.minConfidenceLabel, "50%");
  assert.equal(person.title, "Person 1");
  assert.deepEqual(
    person.timestamps.map((t) => t.label),
    ["0:05", "0:20"],
  );
  assert.equal(person.firstFrameIndex, 1);
  assert.equal(person.hiddenCandidates, 1);
  assert.equal(person.candidates[0].confidenceLabel, "87%");
  assert.deepEqual(person.candidates[0].links, [{ label: "stashdb.org", url: "https://stashdb.org/performers/uuid-3" }]);
  assert.equal(person.thumbnail, "data:image/jpeg;base64,/9j/AAAA");
});

test("candidates already on the scene are marked by their stash IDs", () => {
  const view = core.resultsView(
    { persons: [{ person: 1, frames: [], matches: [match("3", "High", 0.9), match("4", "Other", 0.8)] }] },
    { minConfidence: 0.5, castStashIds: [{ endpoint: "https://stashdb.org/graphql", stash_id: "uuid-3" }] },
  );
  assert.deepEqual(
    view.persons[0].candidates.map((c) => c.inScene),
    [true, false],
  );
});

test("thumbnails that are not inline images or http(s) URLs are dropped", () => {
  const view = core.resultsView(
    { persons: [{ person: 1, frames: [], matches: [], thumbnail: "javascript:alert(1)" }] },
    { minConfidence: 0.5, castStashIds: [] },
  );
  assert.equal(view.persons[0].thumbnail, null);
  assert.equal(core.safeImageSrc('data:image/svg+xml;base64,PHN2Zz4='), null);
});

test("the identify request posts the scene id and the cast's stash IDs to the scene's suggestions", () => {
  const settings = { serviceUrl: "http://sense:8000", apiKey: "secret" };
  const scene = {
    performers: [
      { id: "9", stash_ids: [{ endpoint: "https://stashdb.org/graphql", stash_id: "a", updated_at: "x" }] },
      { id: "10", stash_ids: [] },
    ],
  };
  const request = core.identifyRequest(settings, 42, core.castStashIds(scene));
  assert.equal(request.url, "http://sense:8000/api/v1/scenes/42/suggestions");
  assert.equal(request.init.method, "POST");
  assert.equal(request.init.headers.Authorization, "Api-Key secret");
  assert.deepEqual(JSON.parse(request.init.body), {
    stash_scene_id: "42",
    known_performer_ids: [{ endpoint: "https://stashdb.org/graphql", stash_id: "a" }],
    mode: "auto",
  });
});

test("the results view says which mode ran and how many frames it read", () => {
  const options = { minConfidence: 0.5, castStashIds: [] };
  const auto = core.resultsView({ mode: "auto", frames: 101, video_frames: 20, persons: [] }, options);
  assert.equal(auto.frames, 101);
  assert.equal(auto.mode, "auto: sprite + 20 video frames");
  assert.equal(core.resultsView({ mode: "video", frames: 60, video_frames: 60 }, options).mode, "video: 60 frames");
  assert.equal(core.resultsView({ mode: "sprite", frames: 81 }, options).mode, "sprite");
  assert.equal(core.resultsView({ frames: 81 }, options).mode, "");
});

test("stored suggestions are asked for with a GET carrying the API key", () => {
  const request = core.storedSuggestionsRequest({ serviceUrl: "http://sense:8000", apiKey: "k" }, 42);
  assert.equal(request.url, "http://sense:8000/api/v1/scenes/42/suggestions");
  assert.equal(request.init.method, "GET");
  assert.equal(request.init.body, undefined);
  assert.equal(request.init.headers.Authorization, "Api-Key k");
});

test("a stored body gives its result and a saved label naming where it came from", () => {
  const body = { origin: "scan", updated_at: "2024-05-01T14:03:00", result: { frames: 81, persons: [] } };
  assert.deepEqual(core.suggestionResult(body), { frames: 81, persons: [] });
  assert.deepEqual(core.suggestionResult({ frames: 3, persons: [] }), { frames: 3, persons: [] });
  assert.equal(core.savedLabel(body), "Saved result from 2024-05-01 14:03 (library scan).");
  assert.match(core.savedLabel({ origin: "request", updated_at: "nonsense" }), /from earlier \(an earlier identification\)/);
});

test("feedback evidence is the person's face crop and where the face was in each frame", () => {
  const view = core.resultsView(
    {
      persons: [
        {
          person: 0,
          thumbnail: "data:image/jpeg;base64,/9j/AAAA",
          frames: [
            { index: 3, start: 15, box: { x: 1, y: 2, w: 30, h: 40 } },
            { index: 4, start: 20, box: { x: -1, y: 2, w: 30, h: 40 } },
            { index: "5", start: 25 },
          ],
          matches: [],
        },
      ],
    },
    { minConfidence: 0.5, castStashIds: [] },
  );
  assert.deepEqual(core.feedbackEvidence(view.persons[0]), {
    thumbnail: "data:image/jpeg;base64,/9j/AAAA",
    frames: [{ index: 3, box: { x: 1, y: 2, w: 30, h: 40 } }, { index: 4 }],
  });
  assert.deepEqual(core.feedbackEvidence({ thumbnail: "https://x/y.jpg", faceFrames: [] }), {});
  const request = core.feedbackRequest(
    { serviceUrl: "http://sense:8000", apiKey: "k" },
    { sceneId: "5", person: 0, performerId: "77", decision: "confirm", ...core.feedbackEvidence(view.persons[0]) },
  );
  const sent = JSON.parse(request.init.body);
  assert.equal(sent.thumbnail, "data:image/jpeg;base64,/9j/AAAA");
  assert.deepEqual(sent.frames[0], { index: 3, box: { x: 1, y: 2, w: 30, h: 40 } });
});

test("feedback requests carry the scene, person, performer and decision", () => {
  const request = core.feedbackRequest(
    { serviceUrl: "http://sense:8000", apiKey: "k" },
    { sceneId: "5", person: 2, performerId: "77", decision: "reject" },
  );
  assert.equal(request.url, "http://sense:8000/api/v1/feedback");
  assert.deepEqual(JSON.parse(request.init.body), { stash_scene_id: "5", person: 2, performer_id: "77", decision: "reject" });
});

test("adding performers uses bulkSceneUpdate with mode ADD, never sceneUpdate", () => {
  const body = core.stashGraphqlBody("BulkSceneUpdateAddPerformers", core.addPerformersVariables(12, [3]));
  assert.match(body.query, /bulkSceneUpdate\(/);
  assert.match(body.query, /mode:\s*ADD/);
  assert.deepEqual(body.variables, { scene_ids: ["12"], performer_ids: ["3"] });
  for (const [name, document] of Object.entries(core.DOCUMENTS)) {
    assert.doesNotMatch(document, /\bsceneUpdate\b/, name);
    assert.doesNotMatch(document, /mode:\s*(SET|REMOVE)/, name);
  }
});

test("unknown documents are refused", () => {
  assert.throws(() => core.stashGraphqlBody("SceneUpdate", {}), /unknown Stash document/);
});

test("service errors read as sentences", () => {
  assert.match(core.serviceErrorMessage(0, null, "http://sense:8000"), /Could not reach Stash Sense at http:\/\/sense:8000/);
  assert.match(core.serviceErrorMessage(401, null, "x"), /refused the API key \(HTTP 401\)/);
  assert.equal(
    core.serviceErrorMessage(422, { error: { code: "no_sprite", message: "no sprite generated" } }, "x"),
    "Stash Sense could not identify this scene: no sprite generated.",
  );
  assert.match(core.serviceErrorMessage(503, null, "x"), /HTTP 503/);
});

test("Stash GraphQL errors become Errors with Stash's messages", () => {
  assert.deepEqual(core.stashGraphqlData(200, { data: { a: 1 } }), { a: 1 });
  assert.match(core.stashGraphqlData(200, { errors: [{ message: "boom" }] }).message, /Stash: boom/);
  assert.match(core.stashGraphqlData(401, null).message, /logged in/);
});

function recordingIo(localPerformers) {
  const calls = [];
  return {
    calls,
    gql: async (name, variables) => {
      calls.push({ name, variables });
      if (name === "FindPerformersByStashId") {
        const found = localPerformers.filter((p) => p.stash_id === variables.stash_id);
        return { findPerformers: { count: found.length, performers: found } };
      }
      if (name === "PerformerCreate") return { performerCreate: { id: "100", name: variables.input.name } };
      if (name === "BulkSceneUpdateAddPerformers") return { bulkSceneUpdate: [{ id: "12", performers: [] }] };
      throw new Error(`unexpected ${name}`);
    },
    feedback: async (item) => {
      calls.push({ name: "feedback", variables: item });
    },
  };
}

function candidate(extra = {}) {
  return {
    performerId: "77",
    name: "Jane",
    disambiguation: "",
    aliases: ["J"],
    image: null,
    stashIds: [
      { endpoint: "https://fansdb.cc/graphql", stash_id: "f-1" },
      { endpoint: "https://stashdb.org/graphql", stash_id: "s-1" },
    ],
    ...extra,
  };
}

test("adding a known performer looks it up by stash ID, adds it and confirms", async () => {
  const io = recordingIo([{ id: "5", stash_id: "s-1" }]);
  const result = await core.addCandidateToScene(io, { sceneId: "12", person: 0, candidate: candidate(), create: false });
  assert.equal(result.performer.id, "5");
  assert.equal(result.created, false);
  assert.deepEqual(
    io.calls.map((c) => c.name),
    ["FindPerformersByStashId", "FindPerformersByStashId", "BulkSceneUpdateAddPerformers", "feedback"],
  );
  assert.deepEqual(io.calls[2].variables, { scene_ids: ["12"], performer_ids: ["5"] });
  assert.deepEqual(io.calls[3].variables, { sceneId: "12", person: 0, performerId: "77", decision: "confirm" });
});

test("the confirmation after adding carries the person's evidence", async () => {
  const io = recordingIo([{ id: "5", stash_id: "s-1" }]);
  const evidence = { thumbnail: "data:image/jpeg;base64,/9j/AAAA", frames: [{ index: 2 }] };
  await core.addCandidateToScene(io, { sceneId: "12", person: 1, candidate: candidate(), create: false, evidence });
  assert.deepEqual(io.calls.at(-1).variables, { sceneId: "12", person: 1, performerId: "77", decision: "confirm", ...evidence });
});

test("a missing performer is created only when asked, then added", async () => {
  const io = recordingIo([]);
  const refused = await core.addCandidateToScene(io, { sceneId: "12", person: 0, candidate: candidate(), create: false });
  assert.equal(refused.performer, null);
  assert.ok(!io.calls.some((c) => c.name === "BulkSceneUpdateAddPerformers"));

  const created = await core.addCandidateToScene(io, { sceneId: "12", person: 0, candidate: candidate(), create: true });
  assert.equal(created.created, true);
  const create = io.calls.find((c) => c.name === "PerformerCreate");
  assert.deepEqual(create.variables.input, { name: "Jane", alias_list: ["J"], stash_ids: candidate().stashIds });
  assert.deepEqual(io.calls.at(-2).variables, { scene_ids: ["12"], performer_ids: ["100"] });
});

test("a failed confirmation does not undo the addition", async () => {
  const io = recordingIo([{ id: "5", stash_id: "f-1" }]);
  io.feedback = async () => {
    throw new Error("service down");
  };
  const result = await core.addCandidateToScene(io, { sceneId: "1", person: 0, candidate: candidate(), create: false });
  assert.equal(result.performer.id, "5");
  assert.equal(result.feedbackError, "service down");
});
