/*
 * Stash Sense plugin: the scene page's "Stash Sense" tab.
 *
 * Plain browser JavaScript, no build step. Stash loads stash-sense-core.js first
 * (window.StashSenseCore), then this file, which patches the scene page through
 * window.PluginApi. Every element is built with React.createElement and every string is a
 * text child, so nothing from the service or from Stash is ever parsed as HTML; URLs are
 * checked by the core (http(s) or inline images only) before they reach href or src.
 *
 * Under Node (the unit tests) the same file exports its render functions instead.
 */
(function (root, factory) {
  "use strict";
  if (typeof module === "object" && module.exports) {
    module.exports = factory(require("./stash-sense-core.js"));
    return;
  }
  // Stash runs the yml's scripts in order; wait a little in case the core arrives late.
  const start = (attempt) => {
    if (root.PluginApi && root.StashSenseCore) {
      factory(root.StashSenseCore).install(root.PluginApi, root);
    } else if (attempt < 50) {
      root.setTimeout(() => start(attempt + 1), 100);
    } else {
      root.console.error("Stash Sense: window.PluginApi or StashSenseCore is missing");
    }
  };
  start(0);
})(typeof window !== "undefined" ? window : globalThis, function (core) {
  "use strict";

  const TAB_KEY = "stash-sense-panel";
  const FEEDBACK_TIMEOUT_MS = 30000;

  // ---------------------------------------------------------------- pure rendering
  // h is React.createElement (or a test double); state and actions come from the panel.

  function candidateKey(person, candidate) {
    return `${person.key}/${candidate.performerId}`;
  }

  function plural(count, word) {
    return `${count} ${word}${count === 1 ? "" : "s"}`;
  }

  function renderCandidateActions(h, person, candidate, state, actions) {
    const noun = actions.noun || "scene"; // "image" or "gallery" on those pages
    if (state.status === "added") {
      const done = state.created ? `Created and added to ${noun}` : `Added to ${noun}`;
      return [
        h("span", { key: "done", className: "ss-done" }, done),
        state.message ? h("span", { key: "warn", className: "ss-warning" }, state.message) : null,
      ];
    }
    if (state.status === "rejected") {
      return [h("span", { key: "done", className: "ss-muted" }, "Marked as not this person")];
    }
    const busy = state.status === "working";
    const button = (key, label, className, onClick) =>
      h(
        "button",
        { key, type: "button", className: `btn btn-sm ${className}`, disabled: busy, onClick },
        label,
      );
    const buttons = [];
    if (candidate.inScene || state.inScene) {
      buttons.push(h("span", { key: "in", className: "ss-muted" }, `Already in this ${noun}`));
    } else if (state.lookup === "missing") {
      const create = () => actions.add(person, candidate, true);
      buttons.push(button("create", "Create performer", "btn-primary ss-create", create));
    } else {
      const add = () => actions.add(person, candidate, false);
      buttons.push(button("add", `Add to ${noun}`, "btn-primary ss-add", add));
    }
    if (actions.reject) {
      const reject = () => actions.reject(person, candidate);
      buttons.push(button("reject", "Not this person", "btn-secondary ss-reject", reject));
    }
    if (busy) buttons.push(h("span", { key: "busy", className: "ss-muted" }, "Working…"));
    return buttons;
  }

  function renderCandidate(h, person, candidate, state, actions) {
    const links = candidate.links.map((link) =>
      h(
        "a",
        {
          key: link.url,
          className: "ss-link",
          href: link.url,
          target: "_blank",
          rel: "noopener noreferrer",
        },
        link.label,
      ),
    );
    const status = state.status || "idle";
    return h(
      "li",
      { key: candidate.performerId, className: `ss-candidate ss-candidate-${status}` },
      h(
        "div",
        { className: "ss-candidate-main" },
        h(
          "span",
          { className: "ss-confidence", title: "Confidence that this is the person" },
          candidate.confidenceLabel,
        ),
        h("span", { className: "ss-name" }, candidate.name),
        candidate.disambiguation
          ? h("span", { className: "ss-disambiguation" }, `(${candidate.disambiguation})`)
          : null,
        candidate.votes !== null
          ? h(
              "span",
              { className: "ss-votes", title: "Frames that voted for this performer" },
              plural(candidate.votes, "vote"),
            )
          : null,
        h("span", { className: "ss-links" }, links),
      ),
      h("div", { className: "ss-actions" }, renderCandidateActions(h, person, candidate, state, actions)),
      state.message && status !== "added"
        ? h("div", { className: "ss-candidate-error", role: "alert" }, state.message)
        : null,
    );
  }

  function renderFace(h, person, sprite) {
    const alt = `Face of ${person.title}`;
    if (person.thumbnail) return h("img", { className: "ss-thumb", src: person.thumbnail, alt });
    if (person.faceStyle) {
      return h("div", { className: "ss-thumb ss-thumb-crop", style: person.faceStyle, role: "img", "aria-label": alt });
    }
    const cue = sprite && person.firstFrameIndex !== null ? sprite.cues[person.firstFrameIndex] : null;
    const style = core.spriteTileStyle(cue, sprite && sprite.url);
    if (style) {
      return h("div", { className: "ss-thumb ss-thumb-sprite", style, role: "img", "aria-label": alt });
    }
    return h("div", { className: "ss-thumb ss-thumb-none" }, "?");
  }

  function renderTimestamps(h, person, actions) {
    const buttons = person.timestamps.map((stamp) =>
      h(
        "button",
        {
          key: `${stamp.index}-${stamp.start}`,
          type: "button",
          className: "btn btn-sm btn-secondary ss-timestamp",
          title: `Play from ${stamp.label}`,
          onClick: () => actions.seek(stamp.start),
        },
        stamp.label,
      ),
    );
    if (person.moreTimestamps) {
      buttons.push(h("span", { key: "more", className: "ss-muted" }, `+${person.moreTimestamps} more`));
    }
    return h("div", { className: "ss-timestamps" }, buttons);
  }

  /** Links to the gallery images a person is in (Stash's own image pages). */
  function renderImageLinks(h, person) {
    const links = person.imageIds.map((imageId) =>
      h("a", { key: imageId, className: "ss-link ss-image-link", href: `../images/${imageId}` }, `#${imageId}`),
    );
    return h("div", { className: "ss-images" }, h("span", { className: "ss-muted" }, "Images: "), links);
  }

  function renderCandidates(h, person, state, actions) {
    const threshold = state.view.minConfidenceLabel;
    if (!person.candidates.length) {
      return h("p", { className: "ss-no-candidate" }, `Nobody in the gallery above ${threshold}.`);
    }
    return h(
      "ol",
      { className: "ss-candidates" },
      person.candidates.map((candidate) => {
        const candidateState = state.candidates[candidateKey(person, candidate)] || {};
        return renderCandidate(h, person, candidate, candidateState, actions);
      }),
    );
  }

  function renderPerson(h, person, state, actions) {
    const hidden = person.hiddenCandidates
      ? `${plural(person.hiddenCandidates, "candidate")} below ${state.view.minConfidenceLabel} hidden.`
      : "";
    return h(
      "section",
      { key: person.key, className: "ss-person" },
      renderFace(h, person, state.sprite),
      h(
        "div",
        { className: "ss-person-body" },
        h(
          "h5",
          { className: "ss-person-title" },
          person.title,
          h("span", { className: "ss-appearances" }, ` · seen in ${plural(person.appearances, state.view.unit || "frame")}`),
        ),
        renderTimestamps(h, person, actions),
        person.imageIds && person.imageIds.length ? renderImageLinks(h, person) : null,
        renderCandidates(h, person, state, actions),
        hidden ? h("p", { className: "ss-muted ss-hidden-count" }, hidden) : null,
      ),
    );
  }

  function renderSummary(h, view) {
    const people = view.persons.length;
    const counted = view.unit ? plural(view.frames, view.unit) : `${view.frames} frames`;
    const text = people
      ? `${people} ${people === 1 ? "person" : "people"} in ${counted} (${view.faces} faces).`
      : `No faces found in ${counted}.`;
    return h("p", { className: "ss-summary" }, view.mode ? `${text} Read: ${view.mode}.` : text);
  }

  /** The whole panel for a state {phase, progress, error, view, saved, candidates, sprite}. */
  function renderPanel(h, state, actions) {
    const loading = state.phase === "loading";
    const showResults = state.view && !loading;
    return h(
      "div",
      { className: "stash-sense-panel" },
      h(
        "div",
        { className: "ss-toolbar" },
        h(
          "button",
          {
            type: "button",
            className: "btn btn-primary ss-identify",
            disabled: loading,
            onClick: state.view ? actions.rerun : actions.identify,
          },
          state.view ? "Re-run" : "Identify performers",
        ),
        loading
          ? h(
              "span",
              { className: "ss-progress", role: "status" },
              h("span", { className: "ss-spinner" }),
              state.progress,
            )
          : null,
      ),
      state.error ? h("div", { className: "alert alert-danger ss-error", role: "alert" }, state.error) : null,
      showResults && state.saved ? h("p", { className: "ss-saved ss-muted" }, state.saved) : null,
      showResults ? renderSummary(h, state.view) : null,
      showResults
        ? h(
            "div",
            { className: "ss-persons" },
            state.view.persons.map((person) => renderPerson(h, person, state, actions)),
          )
        : null,
    );
  }

  // ---------------------------------------------------------------- browser I/O

  function readJson(text) {
    try {
      return text ? JSON.parse(text) : null;
    } catch (_error) {
      return null;
    }
  }

  function createIo(api, win) {
    /** Runs one of core.DOCUMENTS against Stash's own /graphql (same origin, session cookie). */
    async function gql(name, variables) {
      let response;
      try {
        response = await win.fetch(new URL("graphql", win.document.baseURI).href, {
          method: "POST",
          credentials: "same-origin",
          headers: { Accept: "application/json", "Content-Type": "application/json" },
          body: JSON.stringify(core.stashGraphqlBody(name, variables)),
        });
      } catch (_error) {
        throw new Error("Could not reach Stash's GraphQL API.");
      }
      const data = core.stashGraphqlData(response.status, readJson(await response.text()));
      if (data instanceof Error) throw data;
      return data;
    }

    /**
     * Sends a core-built request to the service; resolves to its JSON body or throws a sentence.
     * With `missingIsNull`, a 404 resolves to null (nothing stored, or an older service).
     */
    async function callService(request, serviceUrl, timeoutMs, missingIsNull) {
      const controller = new win.AbortController();
      const timer = win.setTimeout(() => controller.abort(), timeoutMs);
      try {
        let response;
        try {
          response = await win.fetch(request.url, { ...request.init, signal: controller.signal });
        } catch (_error) {
          if (controller.signal.aborted) {
            throw new Error(`Stash Sense did not answer within ${Math.round(timeoutMs / 1000)} s.`);
          }
          throw new Error(core.serviceErrorMessage(0, null, serviceUrl));
        }
        const body = readJson(await response.text());
        if (missingIsNull && response.status === 404) return null;
        if (!response.ok) throw new Error(core.serviceErrorMessage(response.status, body, serviceUrl));
        return body;
      } finally {
        win.clearTimeout(timer);
      }
    }

    async function settings() {
      const data = await gql("PluginConfiguration", {});
      return core.parseSettings(data.configuration.plugins);
    }

    function seek(seconds) {
      const utils = api.utils && api.utils.InteractiveUtils;
      const player = utils && typeof utils.getPlayer === "function" ? utils.getPlayer() : null;
      if (player && typeof player.currentTime === "function") {
        player.currentTime(seconds);
        return true;
      }
      const video = win.document.querySelector("video");
      if (!video) return false;
      video.currentTime = seconds;
      return true;
    }

    // Stash's own scene page reads through Apollo; ask it to refetch so the new cast shows.
    function refreshStashScene() {
      try {
        const service = api.utils && api.utils.StashService;
        const client = service && typeof service.getClient === "function" ? service.getClient() : null;
        if (client && typeof client.refetchQueries === "function") {
          client.refetchQueries({ include: ["FindScene"] });
        }
      } catch (_error) {
        // Best effort: the cast shows up after a reload anyway.
      }
    }

    /** The scene's sprite URL and VTT cues, for faces the service sent no thumbnail of. */
    async function spriteCues(scene) {
      const paths = scene.paths || {};
      if (!paths.vtt || !paths.sprite) return null;
      const vttUrl = new URL(paths.vtt, win.document.baseURI).href;
      const response = await win.fetch(vttUrl, { credentials: "same-origin" });
      if (!response.ok) return null;
      const cues = core.parseSpriteVtt(await response.text());
      return { url: new URL(paths.sprite, win.document.baseURI).href, cues };
    }

    return { gql, callService, settings, seek, refreshStashScene, spriteCues };
  }

  // ---------------------------------------------------------------- the stateful panel

  const IDLE_STATE = Object.freeze({
    phase: "idle",
    progress: "",
    error: null,
    view: null,
    saved: null,
    candidates: {},
    sprite: null,
  });

  function errorText(error) {
    return error instanceof Error ? error.message : String(error);
  }

  function createPanelComponent(api, win) {
    const React = api.React;
    const h = React.createElement;
    const io = createIo(api, win);
    const events = api.Event && typeof api.Event.addEventListener === "function" ? api.Event : win;

    return function StashSensePanel(props) {
      const [state, setState] = React.useState(IDLE_STATE);
      // Mutable across renders: whether answers may still land, and the current run's context.
      const live = React.useRef({ active: true, run: 0, settings: null, scene: null });

      React.useEffect(() => {
        live.current.active = true;
        const onLocation = (event) => {
          const location = event && event.detail && event.detail.data && event.detail.data.location;
          const pathname = location ? location.pathname : win.location.pathname;
          if (core.sceneIdFromPath(pathname) !== props.sceneId) live.current.active = false;
        };
        events.addEventListener("stash:location", onLocation);
        return () => {
          live.current.active = false;
          events.removeEventListener("stash:location", onLocation);
        };
      }, [props.sceneId]);

      const update = (change, run) => {
        if (!live.current.active || (run !== undefined && run !== live.current.run)) return;
        setState((previous) => ({
          ...previous,
          ...(typeof change === "function" ? change(previous) : change),
        }));
      };
      const updateCandidate = (key, change, run) =>
        update(
          (previous) => ({
            candidates: { ...previous.candidates, [key]: { ...(previous.candidates[key] || {}), ...change } },
          }),
          run,
        );

      async function lookUpLocalPerformers(view, run) {
        const cast = live.current.scene.performers.map((performer) => performer.id);
        for (const person of view.persons) {
          for (const candidate of person.candidates) {
            if (candidate.inScene || run !== live.current.run || !live.current.active) continue;
            const key = candidateKey(person, candidate);
            try {
              const local = await core.findLocalPerformer(io.gql, candidate.stashIds);
              const inScene = Boolean(local && cast.includes(local.id));
              const lookup = local ? "found" : "missing";
              updateCandidate(key, { lookup, localPerformer: local, inScene }, run);
            } catch (_error) {
              updateCandidate(key, { lookup: "error" }, run);
            }
          }
        }
      }

      /** Shows what the service stored for the scene, else (or when `rerun`) identifies it now. */
      async function identify(rerun) {
        const run = (live.current.run += 1);
        const started = Date.now();
        const say = (progress) => update({ phase: "loading", progress, error: null }, run);
        let ticker = null;
        try {
          say("Reading the plugin's settings…");
          const settings = await io.settings();
          if (settings.serviceUrlInvalid) throw new Error('The "Service URL" setting is not an http(s) URL.');
          if (!settings.apiKey) throw new Error('Set "API key" in Settings → Plugins → Stash Sense first.');
          say("Loading the scene from Stash…");
          const scene = (await io.gql("FindSceneForIdentify", { id: props.sceneId })).findScene;
          if (!scene) throw new Error(`Stash has no scene ${props.sceneId}.`);
          Object.assign(live.current, { settings, scene });
          const cast = core.castStashIds(scene);
          let body = null;
          if (!rerun) {
            say("Looking for saved results…");
            const stored = core.storedSuggestionsRequest(settings, props.sceneId);
            body = await io.callService(stored, settings.serviceUrl, FEEDBACK_TIMEOUT_MS, true);
          }
          const saved = body ? core.savedLabel(body) : null;
          if (!body) {
            const waiting = () =>
              say(`Stash Sense is looking for faces… ${Math.round((Date.now() - started) / 1000)} s`);
            waiting();
            ticker = win.setInterval(waiting, 1000);
            const request = core.identifyRequest(settings, props.sceneId, cast);
            body = await io.callService(request, settings.serviceUrl, core.IDENTIFY_TIMEOUT_MS);
            win.clearInterval(ticker);
            ticker = null;
          }
          const view = core.resultsView(core.suggestionResult(body), {
            minConfidence: settings.minConfidence,
            castStashIds: cast,
          });
          update({ phase: "done", progress: "", view, saved, candidates: {}, sprite: null }, run);
          if (view.persons.some((person) => !person.thumbnail)) {
            io.spriteCues(scene).then((sprite) => update({ sprite }, run), () => undefined);
          }
          await lookUpLocalPerformers(view, run);
        } catch (error) {
          update({ phase: "error", progress: "", error: errorText(error) }, run);
        } finally {
          if (ticker !== null) win.clearInterval(ticker);
        }
      }

      function sendFeedback(item) {
        const { settings } = live.current;
        return io.callService(core.feedbackRequest(settings, item), settings.serviceUrl, FEEDBACK_TIMEOUT_MS);
      }

      async function add(person, candidate, create) {
        const key = candidateKey(person, candidate);
        updateCandidate(key, { status: "working", message: "" });
        try {
          const result = await core.addCandidateToScene(
            { gql: io.gql, feedback: sendFeedback },
            {
              sceneId: props.sceneId,
              person: person.person,
              candidate,
              create,
              evidence: core.feedbackEvidence(person),
              localPerformer: (state.candidates[key] || {}).localPerformer || null,
            },
          );
          if (!result.performer) {
            const message = "Stash has no performer with these stash IDs yet.";
            updateCandidate(key, { status: "idle", lookup: "missing", message });
            return;
          }
          const message = result.feedbackError
            ? `Stash Sense did not record the confirmation: ${result.feedbackError}`
            : "";
          updateCandidate(key, {
            status: "added",
            created: result.created,
            localPerformer: result.performer,
            message,
          });
          io.refreshStashScene();
        } catch (error) {
          updateCandidate(key, { status: "idle", message: errorText(error) });
        }
      }

      async function reject(person, candidate) {
        const key = candidateKey(person, candidate);
        updateCandidate(key, { status: "working", message: "" });
        try {
          await sendFeedback({
            sceneId: props.sceneId,
            person: person.person,
            performerId: candidate.performerId,
            decision: "reject",
            ...core.feedbackEvidence(person),
          });
          updateCandidate(key, { status: "rejected" });
        } catch (error) {
          updateCandidate(key, { status: "idle", message: errorText(error) });
        }
      }

      function seek(seconds) {
        if (!io.seek(seconds)) update({ error: "The video player is not available." });
      }

      const actions = { identify: () => identify(false), rerun: () => identify(true), add, reject, seek };
      return renderPanel(h, state, actions);
    };
  }


  // ---------------------------------------------------------------- image and gallery pages

  /** A sentence about the part of a gallery that was not identified, or null. */
  function mediaNote(view, body) {
    const notes = [];
    if (view.trimmed) {
      notes.push(`Only the first ${view.frames} of the gallery's ${Number(body.gallery_images) || "?"} images were identified.`);
    }
    if (view.skipped) notes.push(`${plural(view.skipped, "image")} could not be read.`);
    return notes.length ? notes.join(" ") : null;
  }

  /**
   * The panel of Stash's image page (kind "image") or gallery page ("gallery"): the scene's
   * result panel, with Add to image / Add to gallery. Nothing is stored by the service for
   * these, so every click identifies anew; there is no "Not this person" (its feedback is
   * about scenes).
   */
  function createMediaPanelComponent(api, win, kind) {
    const React = api.React;
    const h = React.createElement;
    const io = createIo(api, win);
    const media = core.MEDIA_KINDS[kind];

    return function StashSenseMediaPanel(props) {
      const [state, setState] = React.useState(IDLE_STATE);
      const live = React.useRef({ active: true, run: 0, item: null });
      React.useEffect(() => {
        live.current.active = true;
        return () => {
          live.current.active = false;
        };
      }, [props.mediaId]);

      const update = (change, run) => {
        if (!live.current.active || (run !== undefined && run !== live.current.run)) return;
        setState((previous) => ({ ...previous, ...(typeof change === "function" ? change(previous) : change) }));
      };
      const updateCandidate = (key, change) =>
        update((previous) => ({
          candidates: { ...previous.candidates, [key]: { ...(previous.candidates[key] || {}), ...change } },
        }));

      /** Which candidates Stash has as performers, and which of those the item already has. */
      async function lookUpLocalPerformers(view, item, run) {
        const cast = (item.performers || []).map((performer) => String(performer.id));
        for (const person of view.persons) {
          for (const candidate of person.candidates) {
            if (candidate.inScene || run !== live.current.run || !live.current.active) continue;
            const key = candidateKey(person, candidate);
            try {
              const local = await core.findLocalPerformer(io.gql, candidate.stashIds);
              const inScene = Boolean(local && cast.includes(String(local.id)));
              updateCandidate(key, { lookup: local ? "found" : "missing", localPerformer: local, inScene });
            } catch (_error) {
              updateCandidate(key, { lookup: "error" });
            }
          }
        }
      }

      async function identify() {
        const run = (live.current.run += 1);
        const say = (progress) => update({ phase: "loading", progress, error: null }, run);
        try {
          say("Reading the plugin's settings…");
          const settings = await io.settings();
          if (settings.serviceUrlInvalid) throw new Error('The "Service URL" setting is not an http(s) URL.');
          if (!settings.apiKey) throw new Error('Set "API key" in Settings → Plugins → Stash Sense first.');
          say(`Loading the ${media.noun} from Stash…`);
          const item = (await io.gql(media.find, { id: props.mediaId }))[media.field];
          if (!item) throw new Error(`Stash has no ${media.noun} ${props.mediaId}.`);
          live.current.item = item;
          const cast = core.castStashIds(item);
          say("Stash Sense is looking for faces…");
          const request = core.identifyMediaRequest(settings, kind, props.mediaId, cast);
          const body = await io.callService(request, settings.serviceUrl, core.IDENTIFY_TIMEOUT_MS);
          const imageUrl = item.paths && item.paths.image ? new URL(item.paths.image, win.document.baseURI).href : null;
          const view = core.mediaResultsView(kind, body, {
            minConfidence: settings.minConfidence,
            castStashIds: cast,
            imageUrl,
            imageSize: core.imageSize(item),
          });
          update({ phase: "done", progress: "", view, saved: mediaNote(view, body), candidates: {} }, run);
          await lookUpLocalPerformers(view, item, run);
        } catch (error) {
          update({ phase: "error", progress: "", error: errorText(error) }, run);
        }
      }

      async function add(person, candidate, create) {
        const key = candidateKey(person, candidate);
        updateCandidate(key, { status: "working", message: "" });
        try {
          const result = await core.addCandidateToMedia(
            { gql: io.gql },
            {
              kind,
              mediaId: props.mediaId,
              imageIds: person.imageIds,
              candidate,
              create,
              localPerformer: (state.candidates[key] || {}).localPerformer || null,
            },
          );
          if (!result.performer) {
            const message = "Stash has no performer with these stash IDs yet.";
            updateCandidate(key, { status: "idle", lookup: "missing", message });
            return;
          }
          updateCandidate(key, { status: "added", created: result.created, localPerformer: result.performer });
        } catch (error) {
          updateCandidate(key, { status: "idle", message: errorText(error) });
        }
      }

      const actions = {
        identify,
        rerun: identify,
        add,
        seek: () => undefined,
        noun: media.noun,
      };
      return renderPanel(h, state, actions);
    };
  }

  /** Adds the panel below Stash's image and gallery pages (where Stash lets them be patched). */
  function installMediaPanels(api, win) {
    const React = api.React;
    const h = React.createElement;
    for (const [kind, component] of [["image", "ImagePage"], ["gallery", "GalleryPage"]]) {
      const Panel = createMediaPanelComponent(api, win, kind);
      api.patch.after(component, function () {
        const result = arguments[arguments.length - 1];
        const mediaId = core.mediaIdFromPath(kind, win.location.pathname);
        if (!mediaId) return result;
        const key = `${TAB_KEY}-${kind}-${mediaId}`;
        const below = h("div", { className: "stash-sense-below", key }, h(Panel, { key, mediaId }));
        return h(React.Fragment, null, result, below);
      });
    }
  }

  // ---------------------------------------------------------------- installing into Stash

  /** Adds a "Stash Sense" tab to the scene page (or, without react-bootstrap, a panel below it). */
  function install(api, win) {
    const React = api.React;
    const h = React.createElement;
    const Panel = createPanelComponent(api, win);
    installMediaPanels(api, win);
    // Keyed by scene: moving to another scene starts a fresh panel.
    const panel = (where) => {
      const sceneId = core.sceneIdFromPath(win.location.pathname);
      return sceneId ? h(Panel, { key: `${where}-${sceneId}`, sceneId }) : null;
    };
    const bootstrap = api.libraries && api.libraries.Bootstrap;
    if (bootstrap && bootstrap.Nav && bootstrap.Tab) {
      const link = h(bootstrap.Nav.Link, { eventKey: TAB_KEY }, "Stash Sense");
      const tab = h(bootstrap.Nav.Item, { key: TAB_KEY }, link);
      api.patch.before("ScenePage.Tabs", (props) => [
        { ...props, children: h(React.Fragment, null, props.children, tab) },
      ]);
      api.patch.before("ScenePage.TabContent", (props) => [
        {
          ...props,
          children: h(
            React.Fragment,
            null,
            props.children,
            h(bootstrap.Tab.Pane, { key: TAB_KEY, eventKey: TAB_KEY }, panel("tab")),
          ),
        },
      ]);
      return;
    }
    api.patch.after("ScenePage", function () {
      const result = arguments[arguments.length - 1];
      const below = h("div", { className: "stash-sense-below", key: TAB_KEY }, panel("page"));
      return h(React.Fragment, null, result, below);
    });
  }

  return Object.freeze({
    TAB_KEY,
    IDLE_STATE,
    candidateKey,
    renderPanel,
    renderPerson,
    renderCandidate,
    createPanelComponent,
    createMediaPanelComponent,
    mediaNote,
    install,
  });
});
