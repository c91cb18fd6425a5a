function main(body) { return body.length > 40 ? "long" : "short" }
