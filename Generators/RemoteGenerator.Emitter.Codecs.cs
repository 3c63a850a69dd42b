using System.Globalization;
using System.Linq;
using Neutral.Generators.Helpers;
using Neutral.Generators.Model;

namespace Neutral.Generators
{
    public sealed partial class RemoteGenerator
    {
        internal static partial class Emitter
        {
            /// <summary>One codec pair in its own part of <c>NeutralCodecs</c>.</summary>
            public static string EmitCodec(CodecFile codec)
            {
                var w = new SourceWriter();
                w.Block(Header);
                w.Open("namespace " + codec.GeneratedNamespace);
                w.Line("/// <summary>Binary codecs of the types used by this assembly's <c>[Remote]</c> methods.</summary>");
                w.Open("internal static partial class NeutralCodecs");
                w.Line(GeneratedCode);
                EmitWrite(w, codec.Shape);
                w.Line();
                w.Line(GeneratedCode);
                EmitRead(w, codec.Shape);
                w.Close();
                w.Close();
                return w.ToString();
            }

            private static string Declared(TypeShape shape) =>
                shape.IsReferenceType && shape.Kind != ShapeKind.Nullable ? shape.TypeFq + "?" : shape.TypeFq;

            private static void EmitWrite(SourceWriter w, TypeShape shape)
            {
                w.Open($"internal static void Write_{shape.Suffix}(ref global::Neutral.Codec.CodecWriter writer, {Declared(shape)} value)");
                switch (shape.Kind)
                {
                    case ShapeKind.Object:
                    case ShapeKind.Tuple:
                        if (shape.IsReferenceType)
                        {
                            w.Open("if (value is null)");
                            w.Line("writer.WritePresence(false);");
                            w.Line("return;");
                            w.Close();
                            w.Line();
                            w.Line("writer.WritePresence(true);");
                        }

                        foreach (MemberShape member in shape.Members)
                        {
                            w.Line(member.Type.Write("value." + member.Name));
                        }

                        break;
                    case ShapeKind.Nullable:
                        w.Open("if (value is null)");
                        w.Line("writer.WritePresence(false);");
                        w.Line("return;");
                        w.Close();
                        w.Line();
                        w.Line("writer.WritePresence(true);");
                        w.Line(shape.Element!.Write("value.Value"));
                        break;
                    case ShapeKind.Array:
                    case ShapeKind.List:
                    case ShapeKind.Set:
                    case ShapeKind.Dictionary:
                        w.Open("if (value is null)");
                        w.Line("writer.WriteLength(-1);");
                        w.Line("return;");
                        w.Close();
                        w.Line();
                        string items = "value";
                        if (shape.UsesCountForWrite)
                        {
                            string collection = $"global::System.Collections.Generic.ICollection<{shape.ElementTypeFq}>";
                            w.Line($"var items = value as {collection} ?? new global::System.Collections.Generic.List<{shape.ElementTypeFq}>(value);");
                            items = "items";
                        }

                        w.Line($"writer.WriteLength({items}.{(shape.Kind == ShapeKind.Array ? "Length" : "Count")});");
                        if (shape.Kind == ShapeKind.Dictionary)
                        {
                            w.Open($"foreach (var pair in {items})");
                            w.Line(shape.Element!.Write("pair.Key"));
                            w.Line(shape.Value!.Write("pair.Value"));
                        }
                        else
                        {
                            w.Open($"foreach (var item in {items})");
                            w.Line(shape.Element!.Write("item"));
                        }

                        w.Close();
                        break;
                }

                w.Close();
            }

            private static void EmitRead(SourceWriter w, TypeShape shape)
            {
                w.Open($"internal static {Declared(shape)} Read_{shape.Suffix}(ref global::Neutral.Codec.CodecReader reader)");
                switch (shape.Kind)
                {
                    case ShapeKind.Object:
                    case ShapeKind.Tuple:
                        if (shape.IsReferenceType)
                        {
                            w.Open("if (!reader.ReadPresence())");
                            w.Line("return null;");
                            w.Close();
                            w.Line();
                        }

                        for (int i = 0; i < shape.Members.Count; i++)
                        {
                            w.Line($"var m{i} = {shape.Members[i].Type.ReadExpression};");
                        }

                        w.Line("return " + Construct(shape) + ";");
                        break;
                    case ShapeKind.Nullable:
                        w.Open("if (!reader.ReadPresence())");
                        w.Line("return null;");
                        w.Close();
                        w.Line();
                        w.Line($"return {shape.Element!.ReadExpression};");
                        break;
                    case ShapeKind.Array:
                    case ShapeKind.List:
                    case ShapeKind.Set:
                        w.Line($"int length = reader.ReadLength({shape.Element!.MinimumSize.ToString(CultureInfo.InvariantCulture)});");
                        w.Open("if (length < 0)");
                        w.Line("return null;");
                        w.Close();
                        w.Line();
                        if (shape.Kind == ShapeKind.Array)
                        {
                            w.Line($"var result = {NewArray(shape.ElementTypeFq!, "length")};");
                            w.Open("for (int i = 0; i < result.Length; i++)");
                            w.Line($"result[i] = {shape.Element.ReadExpression};");
                        }
                        else
                        {
                            w.Line($"var result = new {shape.ConcreteTypeFq}(length);");
                            w.Open("for (int i = 0; i < length; i++)");
                            w.Line($"result.Add({shape.Element.ReadExpression});");
                        }

                        w.Close();
                        w.Line();
                        w.Line("return result;");
                        break;
                    case ShapeKind.Dictionary:
                        int minimum = shape.Element!.MinimumSize + shape.Value!.MinimumSize;
                        w.Line($"int length = reader.ReadLength({minimum.ToString(CultureInfo.InvariantCulture)});");
                        w.Open("if (length < 0)");
                        w.Line("return null;");
                        w.Close();
                        w.Line();
                        w.Line($"var result = new {shape.ConcreteTypeFq}(length);");
                        w.Open("for (int i = 0; i < length; i++)");
                        w.Line("int at = reader.Position;");
                        w.Line($"var key = {shape.Element.ReadExpression};");
                        w.Line($"var item = {shape.Value.ReadExpression};");
                        if (shape.Element.IsReferenceType)
                        {
                            w.Open("if (key is null)");
                            w.Line("global::Neutral.Codec.CodecReader.Throw(\"a null dictionary key\", at);");
                            w.Close();
                            w.Line();
                        }

                        w.Open("if (!result.TryAdd(key, item))");
                        w.Line("global::Neutral.Codec.CodecReader.Throw(\"a duplicate dictionary key\", at);");
                        w.Close();
                        w.Close();
                        w.Line();
                        w.Line("return result;");
                        break;
                }

                w.Close();
            }

            private static string Construct(TypeShape shape)
            {
                var args = shape.Members.Select((m, i) => (m, i)).Where(x => x.m.ConstructorIndex >= 0)
                    .OrderBy(x => x.m.ConstructorIndex).Select(x => "m" + x.i.ToString(CultureInfo.InvariantCulture)).ToArray();
                if (shape.Kind == ShapeKind.Tuple && !shape.IsReferenceType)
                {
                    return "(" + string.Join(", ", args) + ")";
                }

                var inits = shape.Members.Select((m, i) => (m, i)).Where(x => x.m.ConstructorIndex < 0)
                    .Select(x => x.m.Name + " = m" + x.i.ToString(CultureInfo.InvariantCulture)).ToArray();
                string text = "new " + shape.TypeFq + "(" + string.Join(", ", args) + ")";
                return inits.Length == 0 ? text : text + " { " + string.Join(", ", inits) + " }";
            }

            /// <summary><c>new T[n]</c>, with the size in the right place for jagged element types (<c>new int[n][]</c>).</summary>
            private static string NewArray(string elementFq, string length)
            {
                int depth = 0;
                for (int i = 0; i < elementFq.Length; i++)
                {
                    char c = elementFq[i];
                    if (c is '<' or '(')
                    {
                        depth++;
                    }
                    else if (c is '>' or ')')
                    {
                        depth--;
                    }
                    else if (c == '[' && depth == 0)
                    {
                        return "new " + elementFq.Substring(0, i) + "[" + length + "]" + elementFq.Substring(i);
                    }
                }

                return "new " + elementFq + "[" + length + "]";
            }
        }
    }
}
