// Files the binary carries, imported as text at build time (`with { type: "text" }`).
declare module "*.md" {
  const text: string;
  export default text;
}
declare module "*.slice" {
  const text: string;
  export default text;
}
declare module "*/copyright" {
  const text: string;
  export default text;
}
declare module "*.service" {
  const text: string;
  export default text;
}
