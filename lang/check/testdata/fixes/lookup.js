// A stand-in applet for the tests: returns the phone number it was given.
function main(ctx) { return { phone: ctx.args[0] }; }
