import { words } from "./words.js";

function main(ctx) {
  return words(ctx.args[0]).length > 20 ? "hot" : "cold";
}
