// Test helpers: a createElement that builds a plain tree, and a strict serialiser for it.
"use strict";

function h(type, props, ...children) {
  return { type, props: props || {}, children: flatten(children) };
}

function flatten(children) {
  const out = [];
  for (const child of children) {
    if (Array.isArray(child)) out.push(...flatten(child));
    else if (child !== null && child !== undefined && child !== false && child !== true) out.push(child);
  }
  return out;
}

function escapeText(text) {
  return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** HTML the way a DOM would serialise the tree: text children escaped, handlers left out. */
function toHtml(node) {
  if (typeof node === "string" || typeof node === "number") return escapeText(node);
  if (typeof node.type !== "string") throw new Error(`unexpected component ${String(node.type)}`);
  const attrs = Object.entries(node.props)
    .filter(([name, value]) => name !== "key" && typeof value !== "function" && typeof value !== "object")
    .map(([name, value]) => ` ${name === "className" ? "class" : name}="${escapeText(value)}"`)
    .join("");
  return `<${node.type}${attrs}>${node.children.map(toHtml).join("")}</${node.type}>`;
}

/** Every element of a tree, depth first. */
function elements(node, out = []) {
  if (node && typeof node === "object") {
    out.push(node);
    node.children.forEach((child) => elements(child, out));
  }
  return out;
}

function textOf(node) {
  if (typeof node === "string" || typeof node === "number") return String(node);
  return node.children.map(textOf).join("");
}

function findByClass(tree, className) {
  return elements(tree).filter((el) => String(el.props.className || "").split(" ").includes(className));
}

module.exports = { h, toHtml, elements, textOf, findByClass };
