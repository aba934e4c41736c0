/*
 * The parts of Stash's window.PluginApi the plugin uses, for the browser test page.
 *
 * React is MiniReact; patch.before/instead/after behave as Stash documents them (before gets
 * the arguments and returns new ones, instead gets the arguments and the original function,
 * after gets the arguments and the result); Bootstrap offers Nav.Item, Nav.Link and Tab.Pane
 * (all panes shown; `?layout=plain` leaves Bootstrap out to exercise the plugin's fallback);
 * the player records seeks. What the page saw is in window.__e2e for the test to read.
 */
(function (root) {
  "use strict";

  const h = root.MiniReact.createElement;
  const patches = { before: {}, instead: {}, after: {} };
  const record = { seeks: [], refetches: [], errors: [] };
  root.__e2e = record;
  root.addEventListener("error", (event) => record.errors.push(String(event.message)));
  root.addEventListener("unhandledrejection", (event) => record.errors.push(String(event.reason)));

  function addPatch(kind) {
    return (name, fn) => {
      (patches[kind][name] = patches[kind][name] || []).push(fn);
    };
  }

  /** Stash's PatchComponent: the page's components go through the registered patches. */
  function patchComponent(name, component) {
    return function Patched(props) {
      let args = [props];
      for (const fn of patches.before[name] || []) args = fn(...args);
      let original = component;
      for (const fn of patches.instead[name] || []) {
        const inner = original;
        original = (...innerArgs) => fn(...innerArgs, inner);
      }
      let result = original(...args);
      for (const fn of patches.after[name] || []) result = fn(...args, result);
      return result;
    };
  }

  const Bootstrap = {
    Nav: {
      Item: (props) => h("div", { className: "nav-item" }, props.children),
      Link: (props) => h("a", { className: "nav-link", href: "#", "data-event-key": props.eventKey }, props.children),
    },
    Tab: {
      Pane: (props) => h("div", { className: "tab-pane active", "data-event-key": props.eventKey }, props.children),
    },
  };
  const plain = new URLSearchParams(root.location.search).get("layout") === "plain";

  root.PluginApi = {
    React: root.MiniReact,
    libraries: plain ? {} : { Bootstrap },
    patch: { before: addPatch("before"), instead: addPatch("instead"), after: addPatch("after") },
    register: { route: () => undefined, component: () => undefined },
    components: {},
    Event: new EventTarget(),
    utils: {
      InteractiveUtils: {
        getPlayer: () => ({ currentTime: (seconds) => record.seeks.push(seconds) }),
      },
      StashService: {
        getClient: () => ({ refetchQueries: (options) => record.refetches.push(options) }),
      },
    },
    // Not part of Stash's API: how the fake scene page builds its patchable components.
    __patchComponent: patchComponent,
  };
})(window);
