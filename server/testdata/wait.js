// Stands in for a slow applet; the tests replace the runner.
function main(ctx) {
  return ctx.args[0];
}
