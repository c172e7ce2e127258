"use server";

import { randomUUID } from "node:crypto";
import { revalidatePath } from "next/cache";
import { auth, currentUser, hallpassClient } from "hallpass/nextjs/server";
import { getPost, insertPost, removePost } from "@/lib/db";

export async function createPost(formData: FormData) {
  const { userId } = await auth.protect();
  const title = String(formData.get("title") ?? "").trim().slice(0, 200);
  if (!title) return;
  await insertPost({ id: randomUUID(), user_id: userId, title, created_at: Date.now() });
  revalidatePath("/dashboard");
}

export async function deletePost(formData: FormData) {
  const { userId } = await auth.protect();
  const post = await getPost(String(formData.get("postId") ?? ""));
  // Only the post's author may delete it.
  if (!post || post.user_id !== userId) throw new Error("You can only delete your own posts.");
  await removePost(post.id);
  revalidatePath("/dashboard");
}

export async function promoteToAdmin(_state: { message: string }, formData: FormData): Promise<{ message: string }> {
  await auth.protect();
  const user = await currentUser();
  if (user?.publicMetadata.role !== "admin") {
    return { message: "Only admins can promote users." };
  }
  const userId = String(formData.get("userId") ?? "").trim();
  const client = await hallpassClient();
  await client.users.updateUserMetadata(userId, { publicMetadata: { role: "admin" } });
  revalidatePath("/dashboard");
  return { message: `${userId} is now an admin.` };
}
