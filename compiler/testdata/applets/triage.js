// Returns a route key for routes.flow.
function main(ctx) {
  return /urgent/i.test(ctx.message.body) ? "oncall" : "other";
}
