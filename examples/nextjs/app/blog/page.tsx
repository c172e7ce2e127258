export default function Blog() {
  return (
    <>
      <h1>Blog</h1>
      <p>Public too, with everything under /blog.</p>
    </>
  );
}
