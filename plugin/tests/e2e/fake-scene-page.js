/*
 * A stand-in for Stash's scene page, built from patchable components named as Stash names
 * them (ScenePage, ScenePage.Tabs, ScenePage.TabContent). Loaded after the plugin's scripts,
 * as Stash renders its routes after loading plugins.
 */
(function (root) {
  "use strict";

  const api = root.PluginApi;
  const h = api.React.createElement;
  const Fragment = api.React.Fragment;
  const patched = api.__patchComponent;

  const Tabs = patched("ScenePage.Tabs", (props) => h("div", { className: "nav nav-tabs", id: "scene-tabs" }, props.children));
  const TabContent = patched("ScenePage.TabContent", (props) =>
    h("div", { className: "tab-content", id: "scene-tab-content" }, props.children),
  );
  const ScenePage = patched("ScenePage", (props) =>
    h(
      Fragment,
      null,
      h(
        "div",
        { className: "scene-tabs" },
        h("h1", { id: "scene-title" }, `Scene ${props.scene.id}`),
        h(Tabs, null, h("div", { className: "nav-item" }, h("a", { className: "nav-link", href: "#" }, "Details"))),
        h(TabContent, null, h("div", { className: "tab-pane" }, "Scene details")),
      ),
      h("div", { className: "scene-player-container" }, h("div", { id: "fake-player" }, "(player)")),
    ),
  );

  const match = /\/scenes\/(\d+)/.exec(root.location.pathname);
  const scene = { id: match ? match[1] : "1" };
  api.React.render(h("div", { className: "row" }, h(ScenePage, { scene })), root.document.getElementById("root"));
  api.Event.dispatchEvent(new CustomEvent("stash:location", { detail: { data: { location: root.location } } }));
})(window);
