import { auth, currentUser } from "hallpass/nextjs/server";
import { postsOf } from "@/lib/db";
import { createPost, deletePost } from "../actions";
import { PromoteForm } from "./promote-form";

export default async function Dashboard() {
  const { userId } = await auth.protect();
  const user = await currentUser();
  const isAdmin = user?.publicMetadata.role === "admin";
  const posts = await postsOf(userId);

  return (
    <>
      <h1>
        Dashboard {isAdmin && <span className="badge" id="admin-badge">Admin</span>}
      </h1>

      <h2>Your posts</h2>
      <ul id="posts">
        {posts.map((post) => (
          <li key={post.id}>
            {post.title}
            <form action={deletePost}>
              <input type="hidden" name="postId" value={post.id} />
              <button type="submit">Delete</button>
            </form>
          </li>
        ))}
      </ul>
      <form action={createPost}>
        <input name="title" placeholder="A new post" required maxLength={200} />
        <button type="submit">Create post</button>
      </form>

      <h2>Make someone an admin</h2>
      <PromoteForm />
    </>
  );
}
