/*
 * Stash Sense plugin: pure logic, no DOM and no React.
 *
 * Loaded first by Stash (it attaches itself as window.StashSenseCore) and by Node's test
 * runner (module.exports). Everything that can be decided without a browser lives here:
 * settings, GraphQL documents, request bodies, VTT parsing, stash-box links, the result
 * view-model and the "add to scene" flow (with its I/O injected).
 */
(function (root, factory) {
  "use strict";
  const core = factory();
  if (typeof module === "object" && module.exports) {
    module.exports = core;
  } else {
    root.StashSenseCore = core;
  }
})(typeof window !== "undefined" ? window : globalThis, function () {
  "use strict";

  const PLUGIN_ID = "stash-sense";
  // The service URL the plugin was rendered for; `manage.py stash_plugin` rewrites it.
  const DEFAULT_SERVICE_URL = "http://127.0.0.1:8000";
  const DEFAULT_MIN_CONFIDENCE = 0.5;
  const IDENTIFY_TIMEOUT_MS = 180000;
  const MAX_TIMESTAMPS_SHOWN = 12;

  // Every Stash GraphQL document the plugin sends. Copies of these live in
  // stash/documents/*.graphql and are validated against Stash's schema.
  const DOCUMENTS = Object.freeze({
    PluginConfiguration: `
      query PluginConfiguration {
        configuration {
          plugins(include: ["stash-sense"])
        }
      }`,
    FindSceneForIdentify: `
      query FindSceneForIdentify($id: ID!) {
        findScene(id: $id) {
          id
          title
          paths { sprite vtt screenshot }
          performers { id name stash_ids { endpoint stash_id } }
        }
      }`,
    FindPerformersByStashId: `
      query FindPerformersByStashId($endpoint: String!, $stash_id: String!) {
        findPerformers(
          performer_filter: {
            stash_id_endpoint: { endpoint: $endpoint, stash_id: $stash_id, modifier: EQUALS }
          }
          filter: { per_page: 5 }
        ) {
          count
          performers { id name disambiguation stash_ids { endpoint stash_id } }
        }
      }`,
    PerformerCreate: `
      mutation PerformerCreate($input: PerformerCreateInput!) {
        performerCreate(input: $input) {
          id
          name
          disambiguation
          stash_ids { endpoint stash_id }
        }
      }`,
    // ADD is written into the document on purpose: no caller can turn it into SET.
    BulkSceneUpdateAddPerformers: `
      mutation BulkSceneUpdateAddPerformers($scene_ids: [ID!]!, $performer_ids: [ID!]!) {
        bulkSceneUpdate(
          input: { ids: $scene_ids, performer_ids: { ids: $performer_ids, mode: ADD } }
        ) {
          id
          performers { id }
        }
      }`,
    // Images and galleries: ADD is written into the documents too (galleryUpdate has no mode
    // and would replace a gallery's performers, so galleries use bulkGalleryUpdate).
    FindImageForIdentify: `
      query FindImageForIdentify($id: ID!) {
        findImage(id: $id) {
          id
          title
          paths {
            image
          }
          visual_files {
            __typename
            ... on ImageFile {
              size
              width
              height
            }
          }
          performers {
            id
            name
            stash_ids {
              endpoint
              stash_id
            }
          }
        }
      }`,
    FindGalleryForIdentify: `
      query FindGalleryForIdentify($id: ID!) {
        findGallery(id: $id) {
          id
          title
          image_count
          performers {
            id
            name
            stash_ids {
              endpoint
              stash_id
            }
          }
        }
      }`,
    BulkImageUpdateAddPerformers: `
      mutation BulkImageUpdateAddPerformers($image_ids: [ID!]!, $performer_ids: [ID!]!) {
        bulkImageUpdate(input: { ids: $image_ids, performer_ids: { ids: $performer_ids, mode: ADD } }) {
          id
          performers {
            id
          }
        }
      }`,
    BulkGalleryUpdateAddPerformers: `
      mutation BulkGalleryUpdateAddPerformers($gallery_ids: [ID!]!, $performer_ids: [ID!]!) {
        bulkGalleryUpdate(
          input: { ids: $gallery_ids, performer_ids: { ids: $performer_ids, mode: ADD } }
        ) {
          id
          performers {
            id
          }
        }
      }`,
  });

  // ---------------------------------------------------------------- settings and URLs

  /** An http(s) URL as a string without a trailing slash, or null when it is anything else. */
  function safeHttpUrl(value) {
    if (typeof value !== "string" || value.trim() === "") return null;
    let url;
    try {
      url = new URL(value.trim());
    } catch (_error) {
      return null;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") return null;
    if (url.username || url.password) return null;
    return url.href.replace(/\/+$/, "");
  }

  /** An image source safe to put in <img src>: an inline raster image or an http(s) URL. */
  function safeImageSrc(value) {
    if (typeof value !== "string") return null;
    if (/^data:image\/(jpeg|png|webp|gif);base64,[A-Za-z0-9+/=\s]+$/.test(value)) return value;
    return safeHttpUrl(value);
  }

  /** minConfidence as a fraction: values below 1 are fractions, 1 to 100 are percent. */
  function parseMinConfidence(value) {
    const number = typeof value === "string" ? Number(value.trim()) : value;
    if (typeof number !== "number" || !Number.isFinite(number) || number < 0) {
      return DEFAULT_MIN_CONFIDENCE;
    }
    if (number < 1) return number;
    return Math.min(number, 100) / 100;
  }

  /** The plugin's settings from `configuration { plugins(include: ["stash-sense"]) }`. */
  function parseSettings(pluginsMap) {
    const raw = (pluginsMap && pluginsMap[PLUGIN_ID]) || {};
    const configured = typeof raw.serviceUrl === "string" ? raw.serviceUrl.trim() : "";
    return {
      serviceUrl: configured ? safeHttpUrl(configured) : DEFAULT_SERVICE_URL,
      serviceUrlInvalid: configured !== "" && safeHttpUrl(configured) === null,
      apiKey: typeof raw.apiKey === "string" ? raw.apiKey.trim() : "",
      minConfidence: parseMinConfidence(raw.minConfidence),
    };
  }

  /** The stash-box web page of a performer: the endpoint without `/graphql`, + /performers/id. */
  function stashBoxPerformerUrl(endpoint, stashId) {
    const base = safeHttpUrl(endpoint);
    if (!base || typeof stashId !== "string" || stashId === "") return null;
    const site = base.replace(/\/graphql$/i, "");
    return `${site}/performers/${encodeURIComponent(stashId)}`;
  }

  /** A short name for an endpoint, for link labels: its host without "www.". */
  function endpointLabel(endpoint) {
    const base = safeHttpUrl(endpoint);
    if (!base) return "stash-box";
    return new URL(base).host.replace(/^www\./, "");
  }

  /** The scene id in a Stash path such as /scenes/12 or /base/scenes/12/markers, else null. */
  function sceneIdFromPath(pathname) {
    const match = /\/scenes\/(\d+)(?:[/?#]|$)/.exec(pathname || "");
    return match ? match[1] : null;
  }

  // ---------------------------------------------------------------- sprites and VTT

  /** Seconds from a VTT timestamp: `HH:MM:SS.mmm` or `MM:SS.mmm`; NaN when malformed. */
  function parseVttTimestamp(text) {
    const match = /^\s*(?:(\d+):)?(\d{1,2}):(\d{1,2}(?:\.\d+)?)\s*$/.exec(String(text));
    if (!match) return Number.NaN;
    const hours = match[1] ? Number(match[1]) : 0;
    return hours * 3600 + Number(match[2]) * 60 + Number(match[3]);
  }

  /** {x, y, w, h} from a cue payload `name_sprite.jpg#xywh=x,y,w,h`, or null. */
  function parseXywh(text) {
    const match = /#xywh=(\d+),(\d+),(\d+),(\d+)\s*$/.exec(String(text));
    if (!match) return null;
    const [x, y, w, h] = match.slice(1).map(Number);
    return { x, y, w, h };
  }

  /** The cues of a Stash sprite VTT: [{index, start, end, image, x, y, w, h}]. */
  function parseSpriteVtt(text) {
    const lines = String(text).replace(/\r\n?/g, "\n").split("\n");
    const cues = [];
    for (let i = 0; i < lines.length; i += 1) {
      const timing = /^\s*(\S+)\s+-->\s+(\S+)/.exec(lines[i]);
      if (!timing) continue;
      const payload = (lines[i + 1] || "").trim();
      const box = parseXywh(payload);
      const start = parseVttTimestamp(timing[1]);
      const end = parseVttTimestamp(timing[2]);
      if (!box || Number.isNaN(start) || Number.isNaN(end)) continue;
      cues.push({ index: cues.length, start, end, image: payload.split("#")[0], ...box });
      i += 1;
    }
    return cues;
  }

  /** Inline style showing one sprite tile at its natural size (a fallback face thumbnail). */
  function spriteTileStyle(cue, spriteUrl) {
    const url = safeHttpUrl(spriteUrl);
    if (!cue || !url) return null;
    return {
      backgroundImage: `url("${url}")`,
      backgroundPosition: `-${cue.x}px -${cue.y}px`,
      backgroundRepeat: "no-repeat",
      width: `${cue.w}px`,
      height: `${cue.h}px`,
    };
  }

  /** A player-style timestamp: 0:05, 12:34, 1:02:03. */
  function formatTimestamp(seconds) {
    const total = Math.max(0, Math.floor(Number(seconds) || 0));
    const h = Math.floor(total / 3600);
    const m = Math.floor((total % 3600) / 60);
    const s = String(total % 60).padStart(2, "0");
    return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
  }

  function toSeconds(start) {
    if (typeof start === "number") return start;
    const asNumber = Number(start);
    return Number.isFinite(asNumber) ? asNumber : parseVttTimestamp(start);
  }

  // ---------------------------------------------------------------- results view-model

  function stashIdKey(stashId) {
    return `${stashId.endpoint}\u0000${stashId.stash_id}`;
  }

  function cleanStashIds(list) {
    if (!Array.isArray(list)) return [];
    return list
      .filter((s) => s && typeof s.endpoint === "string" && typeof s.stash_id === "string")
      .map((s) => ({ endpoint: s.endpoint, stash_id: s.stash_id }));
  }

  /** Matches at or above minConfidence, most confident first (score, then votes break ties). */
  function rankMatches(matches, minConfidence) {
    const list = Array.isArray(matches) ? matches : [];
    return list
      .filter((m) => m && m.performer && Number(m.confidence) >= minConfidence)
      .sort(
        (a, b) =>
          Number(b.confidence) - Number(a.confidence) ||
          Number(b.score || 0) - Number(a.score || 0) ||
          Number(b.votes || 0) - Number(a.votes || 0),
      );
  }

  function candidateView(match, castStashIds) {
    const performer = match.performer;
    const stashIds = cleanStashIds(performer.stash_ids);
    const name = typeof performer.name === "string" && performer.name ? performer.name : "?";
    const disambiguation =
      typeof performer.disambiguation === "string" ? performer.disambiguation : "";
    return {
      performerId: String(performer.id),
      name,
      disambiguation,
      aliases: Array.isArray(performer.aliases) ? performer.aliases.map(String) : [],
      image: safeHttpUrl(performer.image_url || performer.image || ""),
      confidence: Number(match.confidence),
      confidenceLabel: `${Math.round(Number(match.confidence) * 100)}%`,
      votes: Number.isFinite(Number(match.votes)) ? Number(match.votes) : null,
      stashIds,
      links: stashIds
        .map((s) => ({ label: endpointLabel(s.endpoint), url: stashBoxPerformerUrl(s.endpoint, s.stash_id) }))
        .filter((link) => link.url !== null),
      inScene: stashIds.some((s) => castStashIds.has(stashIdKey(s))),
    };
  }

  function timestampsView(frames) {
    const seen = new Set();
    const stamps = [];
    for (const frame of Array.isArray(frames) ? frames : []) {
      const seconds = toSeconds(frame && frame.start);
      if (!Number.isFinite(seconds) || seen.has(seconds)) continue;
      seen.add(seconds);
      stamps.push({ index: frame.index, start: seconds, label: formatTimestamp(seconds) });
    }
    return stamps.sort((a, b) => a.start - b.start);
  }

  /** Where the person's face is in each frame ({index, box}), for the feedback request. */
  function faceFramesView(frames) {
    const isCount = (value) => Number.isInteger(value) && value >= 0;
    return (Array.isArray(frames) ? frames : [])
      .filter((frame) => frame && isCount(frame.index))
      .map((frame) => {
        const box = frame.box || {};
        const valid = ["x", "y", "w", "h"].every((key) => isCount(box[key])) && box.w > 0 && box.h > 0;
        return valid
          ? { index: frame.index, box: { x: box.x, y: box.y, w: box.w, h: box.h } }
          : { index: frame.index };
      });
  }

  /** What the service needs to find the person's face again: the face crop and where it was. */
  function feedbackEvidence(person) {
    const evidence = {};
    if (person && typeof person.thumbnail === "string" && person.thumbnail.startsWith("data:image/")) {
      evidence.thumbnail = person.thumbnail;
    }
    if (person && Array.isArray(person.faceFrames) && person.faceFrames.length) {
      evidence.frames = person.faceFrames;
    }
    return evidence;
  }

  /**
   * What the results panel shows for one identify/scene response. Pure data: every string in
   * it is rendered as text, every URL has been checked (http(s) or inline image only).
   */
  function resultsView(response, options) {
    const minConfidence = options.minConfidence;
    const cast = new Set(cleanStashIds(options.castStashIds).map(stashIdKey));
    const persons = Array.isArray(response && response.persons) ? response.persons : [];
    return {
      frames: Number(response && response.frames) || 0,
      faces: Number(response && response.faces) || 0,
      mode: modeLabel(response),
      minConfidenceLabel: `${Math.round(minConfidence * 100)}%`,
      persons: persons.map((person, position) => {
        const ranked = rankMatches(person.matches, minConfidence);
        const stamps = timestampsView(person.frames);
        return {
          person: person.person,
          key: `person-${String(person.person ?? position)}`,
          title: `Person ${position + 1}`,
          appearances: Number(person.appearances) || stamps.length,
          thumbnail: safeImageSrc(person.thumbnail),
          firstFrameIndex: stamps.length ? stamps[0].index : null,
          timestamps: stamps.slice(0, MAX_TIMESTAMPS_SHOWN),
          faceFrames: faceFramesView(person.frames),
          moreTimestamps: Math.max(0, stamps.length - MAX_TIMESTAMPS_SHOWN),
          candidates: ranked.map((match) => candidateView(match, cast)),
          hiddenCandidates: (Array.isArray(person.matches) ? person.matches.length : 0) - ranked.length,
        };
      }),
    };
  }

  /** The (endpoint, stash_id) pairs of the performers already on a scene. */
  function castStashIds(scene) {
    const pairs = [];
    for (const performer of (scene && scene.performers) || []) {
      pairs.push(...cleanStashIds(performer.stash_ids));
    }
    return pairs;
  }

  // ---------------------------------------------------------------- requests

  /** {operationName, query, variables} for one of DOCUMENTS. */
  function stashGraphqlBody(name, variables) {
    if (!Object.prototype.hasOwnProperty.call(DOCUMENTS, name)) {
      throw new Error(`unknown Stash document ${name}`);
    }
    return { operationName: name, query: DOCUMENTS[name], variables: variables || {} };
  }

  function addPerformersVariables(sceneId, performerIds) {
    return { scene_ids: [String(sceneId)], performer_ids: performerIds.map(String) };
  }

  /** PerformerCreateInput from a Stash Sense candidate (only fields Stash accepts). */
  function performerCreateInput(candidate) {
    const input = { name: candidate.name, stash_ids: candidate.stashIds };
    if (candidate.disambiguation) input.disambiguation = candidate.disambiguation;
    if (candidate.aliases.length) input.alias_list = candidate.aliases;
    if (candidate.image) input.image = candidate.image;
    return input;
  }

  function serviceHeaders(settings) {
    return { Accept: "application/json", Authorization: `Api-Key ${settings.apiKey}` };
  }

  function serviceRequest(settings, path, body) {
    return {
      url: `${settings.serviceUrl}${path}`,
      init: {
        method: "POST",
        mode: "cors",
        credentials: "omit",
        headers: {
          Accept: "application/json",
          "Content-Type": "application/json",
          Authorization: `Api-Key ${settings.apiKey}`,
        },
        body: JSON.stringify(body),
      },
    };
  }

  function suggestionsPath(sceneId) {
    return `/api/v1/scenes/${encodeURIComponent(String(sceneId))}/suggestions`;
  }

  /** GET what the service stored for a scene (a library scan, an earlier run); 404 if nothing. */
  function storedSuggestionsRequest(settings, sceneId) {
    return {
      url: `${settings.serviceUrl}${suggestionsPath(sceneId)}`,
      init: { method: "GET", mode: "cors", credentials: "omit", headers: serviceHeaders(settings) },
    };
  }

  /**
   * POST /api/v1/scenes/<id>/suggestions: the service identifies the Stash scene now (mode
   * `auto`: its sprite, then frames from its video until everyone is settled) and stores the
   * result, telling it who is already cast.
   */
  function identifyRequest(settings, sceneId, knownStashIds) {
    return serviceRequest(settings, suggestionsPath(sceneId), {
      stash_scene_id: String(sceneId),
      known_performer_ids: cleanStashIds(knownStashIds),
      mode: "auto",
    });
  }

  /** "auto: sprite + 20 video frames", "video: 60 frames", "sprite": what the service read. */
  function modeLabel(response) {
    const mode = typeof (response && response.mode) === "string" ? response.mode : "";
    const videoFrames = Number(response && response.video_frames) || 0;
    if (mode === "auto") return `auto: sprite + ${videoFrames} video frames`;
    if (mode === "video") return `video: ${videoFrames} frames`;
    return mode;
  }

  /** The identification inside a stored-suggestions body (or a bare identify/scene body). */
  function suggestionResult(body) {
    return body && typeof body.result === "object" && body.result !== null ? body.result : body || {};
  }

  /** "Saved result from 2024-05-01 14:03 (library scan)." for a stored-suggestions body. */
  function savedLabel(body) {
    const when = new Date(body && body.updated_at);
    const pad = (n) => String(n).padStart(2, "0");
    const date = Number.isNaN(when.getTime())
      ? "earlier"
      : `${when.getFullYear()}-${pad(when.getMonth() + 1)}-${pad(when.getDate())} ` +
        `${pad(when.getHours())}:${pad(when.getMinutes())}`;
    const origin = body && body.origin === "scan" ? "library scan" : "an earlier identification";
    return `Saved result from ${date} (${origin}).`;
  }

  /** POST /api/v1/feedback: "confirm" when added to the scene, "reject" for "Not this person". */
  function feedbackRequest(settings, feedback) {
    const body = {
      stash_scene_id: String(feedback.sceneId),
      person: feedback.person,
      performer_id: feedback.performerId,
      decision: feedback.decision,
    };
    if (feedback.thumbnail) body.thumbnail = feedback.thumbnail;
    if (feedback.frames && feedback.frames.length) body.frames = feedback.frames;
    return serviceRequest(settings, "/api/v1/feedback", body);
  }

  /** A sentence for the user from a failed call to the service (status 0: no answer at all). */
  function serviceErrorMessage(status, body, serviceUrl) {
    const detail = body && body.error && typeof body.error.message === "string" ? body.error.message : "";
    if (status === 0) {
      return (
        `Could not reach Stash Sense at ${serviceUrl}. Is it running, and is this address ` +
        "allowed by the plugin (Content-Security-Policy) and by the service (CORS origins)?"
      );
    }
    if (status === 401 || status === 403) {
      return `Stash Sense refused the API key (HTTP ${status}). Check the plugin's "API key" setting.`;
    }
    if (status >= 400 && status < 500) {
      return `Stash Sense could not identify this scene: ${detail || `HTTP ${status}`}.`;
    }
    return `Stash Sense failed (HTTP ${status})${detail ? `: ${detail}` : ""}. See the service's log.`;
  }

  /** A GraphQL response's data, or an Error naming Stash's messages. */
  function stashGraphqlData(status, payload) {
    if (status === 401 || status === 403) {
      return new Error(`Stash refused the request (HTTP ${status}). Are you still logged in?`);
    }
    if (payload && Array.isArray(payload.errors) && payload.errors.length) {
      return new Error(`Stash: ${payload.errors.map((e) => e.message).join("; ")}`);
    }
    if (status !== 200 || !payload || !payload.data) {
      return new Error(`Stash answered HTTP ${status} without data.`);
    }
    return payload.data;
  }

  // ---------------------------------------------------------------- add to scene

  /** The local performer carrying any of the candidate's stash IDs, or null. */
  async function findLocalPerformer(gql, stashIds) {
    for (const stashId of stashIds) {
      const data = await gql("FindPerformersByStashId", {
        endpoint: stashId.endpoint,
        stash_id: stashId.stash_id,
      });
      const found = data.findPerformers.performers;
      if (found.length) return found[0];
    }
    return null;
  }

  /**
   * Adds a candidate to a scene: the known local performer, or a new one when `create` is set,
   * then tells the service it was right. Returns {performer, created, feedbackError}.
   * Never replaces the cast: the only scene mutation used is bulkSceneUpdate with mode ADD.
   */
  async function addCandidateToScene(io, request) {
    let performer = request.localPerformer || (await findLocalPerformer(io.gql, request.candidate.stashIds));
    let created = false;
    if (!performer) {
      if (!request.create) return { performer: null, created: false, feedbackError: null };
      const data = await io.gql("PerformerCreate", { input: performerCreateInput(request.candidate) });
      performer = data.performerCreate;
      created = true;
    }
    await io.gql("BulkSceneUpdateAddPerformers", addPerformersVariables(request.sceneId, [performer.id]));
    let feedbackError = null;
    try {
      await io.feedback({
        sceneId: request.sceneId,
        person: request.person,
        performerId: request.candidate.performerId,
        decision: "confirm",
        ...(request.evidence || {}),
      });
    } catch (error) {
      feedbackError = error instanceof Error ? error.message : String(error);
    }
    return { performer, created, feedbackError };
  }


  // ---------------------------------------------------------------- images and galleries

  // What differs between Stash's image page and gallery page; the result panel is the scene's.
  const MEDIA_KINDS = Object.freeze({
    image: Object.freeze({ noun: "image", find: "FindImageForIdentify", field: "findImage" }),
    gallery: Object.freeze({ noun: "gallery", find: "FindGalleryForIdentify", field: "findGallery" }),
  });
  const FACE_CROP_SIDE = 96;

  /** The image or gallery id in a Stash path such as /images/12 or /base/galleries/3, else null. */
  function mediaIdFromPath(kind, pathname) {
    const folder = kind === "image" ? "images" : "galleries";
    const match = new RegExp(`/${folder}/(\\d+)(?:[/?#]|$)`).exec(pathname || "");
    return match ? match[1] : null;
  }

  /** POST /api/v1/identify (an image) or /api/v1/identify/gallery, the item named by its id. */
  function identifyMediaRequest(settings, kind, mediaId, knownStashIds) {
    if (kind === "image") {
      return serviceRequest(settings, "/api/v1/identify", { stash_image_id: String(mediaId) });
    }
    return serviceRequest(settings, "/api/v1/identify/gallery", {
      stash_gallery_id: String(mediaId),
      known_performer_ids: cleanStashIds(knownStashIds),
    });
  }

  /** Inline style showing a face of a Stash image, cropped by its box and scaled to a thumbnail. */
  function faceCropStyle(box, imageUrl, imageSize) {
    const url = safeHttpUrl(imageUrl);
    const valid = box && ["x", "y", "w", "h"].every((key) => Number.isFinite(Number(box[key])));
    if (!url || !valid || !(box.w > 0) || !(box.h > 0) || !imageSize) return null;
    const scale = FACE_CROP_SIDE / box.w;
    const px = (value) => `${Math.round(value * scale)}px`;
    return {
      backgroundImage: `url("${url}")`,
      backgroundPosition: `-${px(box.x)} -${px(box.y)}`,
      backgroundSize: `${px(imageSize.width)} ${px(imageSize.height)}`,
      backgroundRepeat: "no-repeat",
      width: `${FACE_CROP_SIDE}px`,
      height: px(box.h),
    };
  }

  /** One image's faces (the body of POST /identify) as persons of the scene panel's view. */
  function imageFacesAsPersons(body) {
    const faces = Array.isArray(body && body.faces) ? body.faces : [];
    return {
      frames: 1,
      faces: faces.length,
      persons: faces.map((face, index) => ({
        person: index,
        appearances: 1,
        frames: [{ index: 0, start: null, box: face && face.box }],
        matches: face && face.matches,
      })),
    };
  }

  /**
   * The results panel's view for an image or a gallery: persons as for a scene, counted in
   * images, each with the gallery images they are in (links) or their face cropped out of the
   * image (`options.imageUrl`, `options.imageSize`).
   */
  function mediaResultsView(kind, body, options) {
    const response = kind === "image" ? imageFacesAsPersons(body) : body || {};
    const view = resultsView(response, options);
    const raw = Array.isArray(response.persons) ? response.persons : [];
    const persons = view.persons.map((person, position) => {
      const images = Array.isArray(raw[position].images) ? raw[position].images : [];
      const imageIds = images
        .map((image) => String((image && image.stash_image_id) || ""))
        .filter((id) => /^\d+$/.test(id));
      const box = (raw[position].frames || [{}])[0].box;
      return {
        ...person,
        imageIds,
        faceStyle: kind === "image" ? faceCropStyle(box, options.imageUrl, options.imageSize) : null,
      };
    });
    return {
      ...view,
      unit: "image",
      frames: kind === "image" ? 1 : Number(body && body.images) || 0,
      persons,
      skipped: kind === "gallery" && Array.isArray(body && body.skipped) ? body.skipped.length : 0,
      trimmed: Boolean(kind === "gallery" && body && body.trimmed),
    };
  }

  /** The width and height of an image's picture from FindImageForIdentify, or null. */
  function imageSize(image) {
    const file = ((image && image.visual_files) || []).find((f) => f && f.__typename === "ImageFile");
    return file && file.width > 0 && file.height > 0 ? { width: file.width, height: file.height } : null;
  }

  /** The candidate's local performer: found by stash ID, else created when `create` is set. */
  async function performerForCandidate(gql, request) {
    const found = request.localPerformer || (await findLocalPerformer(gql, request.candidate.stashIds));
    if (found || !request.create) return { performer: found, created: false };
    const data = await gql("PerformerCreate", { input: performerCreateInput(request.candidate) });
    return { performer: data.performerCreate, created: true };
  }

  /**
   * Adds a candidate to an image, or to a gallery and the gallery images the person is in.
   * Never replaces anyone: only bulkImageUpdate / bulkGalleryUpdate with mode ADD are sent.
   */
  async function addCandidateToMedia(io, request) {
    const { performer, created } = await performerForCandidate(io.gql, request);
    if (!performer) return { performer: null, created: false };
    const performerIds = [String(performer.id)];
    if (request.kind === "gallery") {
      await io.gql("BulkGalleryUpdateAddPerformers", {
        gallery_ids: [String(request.mediaId)],
        performer_ids: performerIds,
      });
    }
    const imageIds = request.kind === "image" ? [String(request.mediaId)] : request.imageIds || [];
    if (imageIds.length) {
      await io.gql("BulkImageUpdateAddPerformers", { image_ids: imageIds, performer_ids: performerIds });
    }
    return { performer, created };
  }

  return Object.freeze({
    PLUGIN_ID,
    DEFAULT_SERVICE_URL,
    DEFAULT_MIN_CONFIDENCE,
    IDENTIFY_TIMEOUT_MS,
    DOCUMENTS,
    safeHttpUrl,
    safeImageSrc,
    parseMinConfidence,
    parseSettings,
    stashBoxPerformerUrl,
    endpointLabel,
    sceneIdFromPath,
    parseVttTimestamp,
    parseXywh,
    parseSpriteVtt,
    spriteTileStyle,
    formatTimestamp,
    rankMatches,
    resultsView,
    feedbackEvidence,
    castStashIds,
    stashGraphqlBody,
    addPerformersVariables,
    performerCreateInput,
    storedSuggestionsRequest,
    identifyRequest,
    suggestionResult,
    savedLabel,
    feedbackRequest,
    serviceErrorMessage,
    stashGraphqlData,
    findLocalPerformer,
    addCandidateToScene,
    MEDIA_KINDS,
    mediaIdFromPath,
    identifyMediaRequest,
    faceCropStyle,
    mediaResultsView,
    imageSize,
    addCandidateToMedia,
  });
});
