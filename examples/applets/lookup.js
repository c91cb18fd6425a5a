// Decides how to greet a contact. Runs in flowc's JavaScript sandbox:
// plain data in (ctx.message, ctx.contact, ctx.vars, ctx.args, ctx.now),
// plain data out. Returning an object with reply / inbox / forward / tag
// is a routing decision; anything else is stored in the `as` variable.
function main(ctx) {
  const tags = ctx.contact.tags || [];
  if (tags.includes("vip")) {
    return { reply: "Welcome back! Your account manager will text you.", inbox: "user:" + (ctx.contact.owner || "owner") };
  }
  const words = String(ctx.args[0] || "").trim().split(/\s+/).length;
  return words > 20 ? "long" : "short";
}
