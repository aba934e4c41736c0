/*
 * A tiny React stand-in for the plugin's browser test (no React download, no build step).
 *
 * It implements only what the plugin and the fake scene page use: createElement (children in
 * props.children, keys), Fragment, useState, useRef, useEffect (with deps and cleanup) and
 * render. On every state change it rebuilds the whole DOM under the root: slow and simple,
 * fine for a test page. Props become DOM properties the React way (className, style objects,
 * onX handlers, boolean attributes); text is always a text node, and dangerouslySetInnerHTML
 * throws, so a plugin that tried to inject HTML fails the test loudly.
 */
(function (root) {
  "use strict";

  const Fragment = Symbol.for("mini-react.fragment");
  const instances = new Map();
  let current = null;
  let hookIndex = 0;
  let effectQueue = [];
  let rootElement = null;
  let rootContainer = null;
  let scheduled = false;

  function createElement(type, props, ...children) {
    const { key = null, ...rest } = props || {};
    if (children.length === 1) rest.children = children[0];
    else if (children.length > 1) rest.children = children;
    return { $$miniReact: true, type, key, props: rest };
  }

  function schedule() {
    if (scheduled) return;
    scheduled = true;
    Promise.resolve().then(() => {
      scheduled = false;
      rerender();
    });
  }

  function useState(initial) {
    const instance = current;
    const index = hookIndex++;
    if (!(index in instance.hooks)) {
      instance.hooks[index] = typeof initial === "function" ? initial() : initial;
    }
    const setState = (value) => {
      const next = typeof value === "function" ? value(instance.hooks[index]) : value;
      if (!Object.is(next, instance.hooks[index])) {
        instance.hooks[index] = next;
        if (instances.get(instance.path) === instance) schedule();
      }
    };
    return [instance.hooks[index], setState];
  }

  function useRef(initial) {
    const instance = current;
    const index = hookIndex++;
    if (!(index in instance.hooks)) instance.hooks[index] = { current: initial };
    return instance.hooks[index];
  }

  function useEffect(effect, deps) {
    const instance = current;
    const index = hookIndex++;
    const previous = instance.hooks[index];
    const changed =
      !previous || !deps || deps.length !== previous.deps.length || deps.some((d, i) => !Object.is(d, previous.deps[i]));
    if (!changed) return;
    const record = { effect: true, deps: deps || [], cleanup: previous ? previous.cleanup : null };
    instance.hooks[index] = record;
    effectQueue.push(() => {
      if (record.cleanup) record.cleanup();
      const cleanup = effect();
      record.cleanup = typeof cleanup === "function" ? cleanup : null;
    });
  }

  function setProps(element, props) {
    for (const [name, value] of Object.entries(props)) {
      if (name === "children" || value === null || value === undefined || value === false) continue;
      if (name === "dangerouslySetInnerHTML") throw new Error("mini-react: dangerouslySetInnerHTML is not allowed");
      if (name === "className") element.className = value;
      else if (name === "style") Object.assign(element.style, value);
      else if (/^on[A-Z]/.test(name)) element.addEventListener(name.slice(2).toLowerCase(), value);
      else element.setAttribute(name, value === true ? "" : String(value));
    }
  }

  function toDom(node, path, seen) {
    if (node === null || node === undefined || typeof node === "boolean") return [];
    if (typeof node === "string" || typeof node === "number") return [document.createTextNode(String(node))];
    if (Array.isArray(node)) {
      return node.flatMap((child, i) => toDom(child, `${path}.${child && child.key != null ? `k${child.key}` : i}`, seen));
    }
    if (!node.$$miniReact) throw new Error(`mini-react: cannot render ${String(node)}`);
    if (node.type === Fragment) return toDom(node.props.children, `${path}.f`, seen);
    if (typeof node.type === "function") {
      const instancePath = `${path}:${node.type.name || "anonymous"}`;
      seen.add(instancePath);
      let instance = instances.get(instancePath);
      if (!instance) {
        instance = { path: instancePath, hooks: [] };
        instances.set(instancePath, instance);
      }
      const previous = [current, hookIndex];
      current = instance;
      hookIndex = 0;
      let output;
      try {
        output = node.type(node.props);
      } finally {
        [current, hookIndex] = previous;
      }
      return toDom(output, instancePath, seen);
    }
    const element = document.createElement(node.type);
    setProps(element, node.props);
    for (const child of toDom(node.props.children, `${path}/${node.type}`, seen)) element.appendChild(child);
    return [element];
  }

  function rerender() {
    const seen = new Set();
    effectQueue = [];
    const nodes = toDom(rootElement, "root", seen);
    rootContainer.replaceChildren(...nodes);
    for (const [path, instance] of instances) {
      if (seen.has(path)) continue;
      instances.delete(path);
      for (const hook of instance.hooks) if (hook && hook.effect && hook.cleanup) hook.cleanup();
    }
    const effects = effectQueue;
    effectQueue = [];
    effects.forEach((run) => run());
  }

  function render(element, container) {
    rootElement = element;
    rootContainer = container;
    rerender();
  }

  root.MiniReact = { createElement, Fragment, useState, useRef, useEffect, render };
})(window);
