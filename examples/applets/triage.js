// examples/applets/triage.js
const URGENT = /\b(urgent|asap|down|outage)\b/i;

function main(ctx) {
  const [text, maxWords] = ctx.args; // run triage(body, 3)
  const words = text.trim().split(/\s+/).slice(0, maxWords);

  if (ctx.contact.tags.includes("vip")) {
    return { route: "vip", name: ctx.contact.name || "there", words };
  }
  if (URGENT.test(text)) {
    console.log("urgent message from", ctx.message.from);
    return { route: "oncall", priority: 1, at: ctx.now, words };
  }
  return { route: "support", words };
}
