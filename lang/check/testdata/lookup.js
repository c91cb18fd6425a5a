export default function lookup(phone) { return { phone }; }
