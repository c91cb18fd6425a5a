// Sizes up a message for concierge.flow. Runs in flowc's JavaScript
// sandbox: plain data in (ctx.message, ctx.contact, ctx.vars, ctx.args,
// ctx.now), plain data out. The result is only data: the flow stores it
// in the `as` variable and picks one of its own routes by it.
function main(ctx) {
  const tags = ctx.contact.tags || [];
  if (tags.includes("vip")) {
    return "vip";
  }
  const words = String(ctx.args[0] || "").trim().split(/\s+/).length;
  return words > 20 ? "long" : "short";
}
